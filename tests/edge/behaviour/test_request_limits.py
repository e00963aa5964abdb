"""Requests the edge refuses before doing any work: oversized, ambiguous or malformed ones.

Each refusal is JSON with the right status, and nothing reaches the origin.
"""

from __future__ import annotations

import time

import pytest

from tests.edge.behaviour.conftest import EdgeUnderTest
from tests.edge.support.lab import Lab, LabResponse
from tests.edge.support.raw_http import request_bytes, send_raw

PUBLIC = ("cache-control", "public, max-age=600")


def test_an_oversized_url_is_414(lab_edge: EdgeUnderTest, lab: Lab, unique: str) -> None:
    path = f"/echo/{unique}"
    response = lab_edge.client.get(f"{path}?q={'a' * 9000}")

    assert response.status_code == 414
    assert response.json()["error"]["code"] == "uri_too_long"
    assert lab.received(path) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Big": "a" * 40_000},
        {f"X-Many-{i}": "1" for i in range(150)},
    ],
    ids=["one-huge-header", "too-many-headers"],
)
def test_oversized_headers_are_431(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, headers: dict[str, str]
) -> None:
    path = f"/echo/{unique}"
    response = lab_edge.client.get(path, headers=headers)

    assert response.status_code == 431
    assert response.json()["error"]["code"] == "headers_too_large"
    assert lab.received(path) == []


def test_an_oversized_body_is_413(lab_edge: EdgeUnderTest, lab: Lab, unique: str) -> None:
    path = f"/echo/{unique}"
    response = lab_edge.client.post(path, content=b"x" * (1_048_576 + 1))

    assert response.status_code == 413
    assert lab.received(path) == []


@pytest.mark.parametrize(
    "framing",
    [
        [("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
        [("Transfer-Encoding", "chunked"), ("Content-Length", "0")],
    ],
    ids=["cl-then-te", "te-then-cl"],
)
def test_a_request_smuggling_shape_is_refused(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, framing: list[tuple[str, str]]
) -> None:
    # The answer comes from the runtime's HTTP front before the edge code runs: the CPython
    # front refuses (its JSON answer is checked in tests/edge/test_http_server.py); workerd's
    # front takes Transfer-Encoding alone (RFC 9112 section 6.3 allows either), drops
    # Content-Length and closes the connection, so the worker sees only the empty chunked body.
    # Either way, nothing hidden in the body ever reaches the origin as a request.
    path, hidden = f"/echo/{unique}", f"/echo/{unique}-smuggled"
    smuggled = f"0\r\n\r\nGET {hidden} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    response = send_raw(lab_edge.url, request_bytes("POST", path, *framing, body=smuggled))

    time.sleep(0.2)  # a request hidden in the body would have been forwarded by now
    if lab_edge.launcher.name == "workerd":
        assert response.status == 200
        assert [received.body for received in lab.received(path)] == [b""]
    else:
        assert response.status == 400
        assert lab.received(path) == []
    assert lab.received(hidden) == []


@pytest.mark.parametrize(
    "target",
    ["/echo/{u}/a/../../{u}-admin", "/echo/{u}/%2e%2e/{u}-admin", "/echo/{u}/x%5c..%5c{u}-admin"],
    ids=["dot-segments", "encoded-dot-segments", "backslashes"],
)
def test_paths_that_servers_could_read_differently_never_reach_the_origin_as_sent(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, target: str
) -> None:
    # The CPython edge refuses them (400 JSON); a Fetch-API runtime resolves them (WHATWG URL
    # parsing) before the edge code sees the request, and the edge judges and forwards that path.
    # Either way, no dot segment or backslash ever reaches the origin.
    response = send_raw(lab_edge.url, request_bytes("GET", target.format(u=unique)))

    forwarded = [r.target for r in lab.received() if unique in r.target]
    assert not any(
        ".." in t or "%2e" in t.lower() or "\\" in t or "%5c" in t.lower() for t in forwarded
    )
    if response.status == 400:
        assert response.json()["error"]["code"] == "bad_request"
        assert forwarded == []
    else:
        assert lab_edge.launcher.name != "cpython"
        assert forwarded != []


def test_a_path_that_is_not_utf8_is_refused(lab_edge: EdgeUnderTest) -> None:
    response = send_raw(lab_edge.url, request_bytes("GET", "/echo/%ff"))

    assert response.status == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_methods_the_edge_does_not_pass_on_are_405(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, method: str
) -> None:
    path = f"/echo/{unique}"
    target = "127.0.0.1:1" if method == "CONNECT" else path
    response = send_raw(lab_edge.url, request_bytes(method, target))

    if method == "CONNECT" and lab_edge.launcher.name == "workerd":
        # A Fetch Request cannot carry CONNECT: Miniflare's entry worker (wrangler dev's front,
        # where Cloudflare's own front stands in production) fails to build one and answers a
        # plain 500 before the worker runs. Nothing is passed on.
        assert response.status == 500
    else:
        assert response.status == 405
        assert response.json()["error"]["code"] == "method_not_allowed"
        assert "GET" in response.headers["allow"]
    assert lab.received(path) == []


def test_an_absurd_if_none_match_gets_the_full_response(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/c/{unique}", LabResponse(200, (PUBLIC, ("etag", '"abc"')), b"v1"))
    lab_edge.client.get(path)
    absurd = ", ".join(f'"tag-{i}"' for i in range(2000)) + ', "abc"'

    response = lab_edge.client.get(path, headers={"If-None-Match": absurd})

    # Past the number of entity tags the edge compares, a match is never found: no 304.
    assert (response.status_code, response.text) == (200, "v1")


@pytest.mark.parametrize(
    "range_value",
    ["bytes=0-0", "bytes=" + ",".join(f"{i}-{i}" for i in range(3000)), "bytes=-1-2-x"],
    ids=["single-byte", "thousands-of-ranges", "malformed"],
)
def test_range_requests_get_the_whole_representation_and_range_is_not_forwarded(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, range_value: str
) -> None:
    path = lab.script(f"/c/{unique}", LabResponse(200, (PUBLIC,), b"whole body"))

    response = lab_edge.client.get(path, headers={"Range": range_value})

    assert (response.status_code, response.text) == (200, "whole body")
    assert all(r.header("range") is None for r in lab.received(path))
