"""What reaches the origin: the edge's own signed statement, never the client's claims.

The lab origin echoes what it receives, so these tests read the forwarded request directly.
"""

from __future__ import annotations

import pytest

from shared.assertion import ASSERTION_HEADER, Assertion, AssertionInvalid, verify_assertion
from tests.data.tokens import load_corpus
from tests.edge.behaviour.conftest import EdgeUnderTest
from tests.edge.support.lab import Lab, Received
from tests.edge.support.origin_server import EDGE_KEY_ID, EDGE_SECRET
from tests.edge.support.raw_http import request_bytes, send_raw

CUSTOMER = next(token for token in load_corpus().valid if token.name == "es256")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def _verified(received: Received, edge: EdgeUnderTest) -> Assertion:
    return verify_assertion(
        received.header(ASSERTION_HEADER.lower()) or "",
        secrets={EDGE_KEY_ID: EDGE_SECRET.encode()},
        method=received.method,
        path=received.target,
        now=edge.now(),
    )


CLIENT_CLAIMS = {
    "X-Cache": "HIT",
    "X-Outpost-Assertion": "v1.edge-test.forged.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "X-Outpost-Subject": "admin",
    "X-User-Id": "1",
    "X-Roles": "admin",
    "X-Forwarded-For": "10.0.0.1",
    "Forwarded": "for=10.0.0.1",
    "X-Real-IP": "10.0.0.1",
    "CF-IPCountry": "DE",
    "CF-Connecting-IP": "10.0.0.1",
    "X-Remote-User": "admin",
}


def test_client_claims_about_identity_geography_and_caching_are_stripped(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/echo/{unique}"
    response = corpus_edge.client.get(path, headers=CLIENT_CLAIMS)

    assert response.status_code == 200
    forwarded = lab.received(path)[-1]
    lowered = {name.lower() for name in CLIENT_CLAIMS}
    assert forwarded.header_names() & lowered == {"x-outpost-assertion"}
    assertion = _verified(forwarded, corpus_edge)  # the edge's own, not the forged one
    assert (assertion.subject, assertion.country) == (None, "DE")
    assert response.headers["x-cache"] == "BYPASS"  # the client's X-Cache is not echoed back


def test_hop_by_hop_headers_are_not_forwarded(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    # Headers named by Connection are the HTTP front's to drop (see tests/edge/test_forward.py).
    path = f"/echo/{unique}"
    corpus_edge.client.get(
        path,
        headers={
            "Keep-Alive": "timeout=5",
            "Upgrade": "websocket",
            "Proxy-Authorization": "Basic eDp5",
            "TE": "trailers",
            "X-Kept": "yes",
        },
    )

    forwarded = lab.received(path)[-1]
    assert not forwarded.header_names() & {"keep-alive", "upgrade", "proxy-authorization", "te"}
    assert forwarded.header("x-kept") == "yes"


def test_headers_named_by_connection_are_not_forwarded(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/echo/{unique}"
    request = request_bytes(
        "GET",
        path,
        ("Connection", "keep-alive, X-Hop-Secret"),
        ("X-Hop-Secret", "only-for-the-first-hop"),
        ("X-Kept", "yes"),
    )

    response = send_raw(corpus_edge.url, request)

    assert response.status == 200
    forwarded = lab.received(path)[-1]
    assert forwarded.header("connection") is None
    assert forwarded.header("x-kept") == "yes"
    if corpus_edge.launcher.name == "workerd":
        # workerd's HTTP front consumes Connection before the worker runs (the Fetch API has no
        # hop-by-hop headers), so the worker cannot know which fields it named: a limit of the
        # runtime, listed in docs/edge.md, that no worker code can lift.
        assert forwarded.header("x-hop-secret") == "only-for-the-first-hop"
    else:
        assert forwarded.header("x-hop-secret") is None


def test_a_chunked_request_body_is_forwarded_whole(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    # No Content-Length: the body's size is only known once it has been read.
    path = f"/auth/{unique}"
    body = b'{"email": "chunked@example.com"}'
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    request = request_bytes(
        "POST",
        path,
        ("Content-Type", "application/json"),
        ("Transfer-Encoding", "chunked"),
        body=chunked,
    )

    response = send_raw(corpus_edge.url, request)

    assert response.status == 200
    assert lab.received(path)[-1].body == body


def test_the_assertion_names_the_authenticated_caller_and_binds_method_and_target(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/api/orders/{unique}"  # template:demo
    # template:no-demo: path = f"/auth/me/{unique}"
    corpus_edge.client.get(
        f"{path}?b=2&a=1",
        headers={
            "Authorization": f"Bearer {CUSTOMER.token}",
            "CF-IPCountry": "FR",
            "X-Forwarded-For": "198.51.100.9",  # a client's claim: never the address
        },
    )

    forwarded = lab.received(path)[-1]
    assertion = _verified(forwarded, corpus_edge)
    assert (assertion.subject, assertion.roles, assertion.country) == (
        "user-42",
        frozenset({"customer"}),
        "FR",
    )
    assert forwarded.header("authorization") == f"Bearer {CUSTOMER.token}"
    assert assertion.client == "127.0.0.1", "the address the client connected from"
    with pytest.raises(AssertionInvalid, match="path_mismatch"):
        verify_assertion(
            forwarded.header(ASSERTION_HEADER.lower()) or "",
            secrets={EDGE_KEY_ID: EDGE_SECRET.encode()},
            method="GET",
            path=f"{path}/other",
            now=corpus_edge.now(),
        )


@pytest.mark.parametrize(
    ("sent", "forwarded"),
    [
        ("/echo/{u}/caf%C3%A9", "/echo/{u}/caf%C3%A9"),
        ("/echo/{u}/a%20b?q=%22x%22", "/echo/{u}/a%20b?q=%22x%22"),
        ("/echo/{u}/%7Euser", "/echo/{u}/~user"),
        # Reads go through the cache: their query is the cache key's (sorted, no tracking).
        ("/echo/{u}/x?b&a=[1]&utm_source=news", "/echo/{u}/x?a=%5B1%5D&b="),
    ],
)
def test_the_target_is_forwarded_in_one_canonical_spelling_that_the_assertion_signs(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str, sent: str, forwarded: str
) -> None:
    response = corpus_edge.client.get(sent.format(u=unique))

    assert response.status_code == 200
    received = lab.received()[-1]
    assert received.target == forwarded.format(u=unique)
    _verified(received, corpus_edge)


def test_the_query_of_a_write_is_forwarded_as_sent(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/auth/{unique}"
    corpus_edge.client.post(f"{path}?z=1&a=2&utm_source=x", json={})

    assert lab.received(path)[-1].target == f"{path}?z=1&a=2&utm_source=x"


def test_request_id_and_trace_context_are_kept_and_the_edge_is_a_new_span(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/echo/{unique}"
    response = corpus_edge.client.get(
        path,
        headers={
            "X-Request-ID": "client-id-1",
            "traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01",
        },
    )

    forwarded = lab.received(path)[-1]
    assert response.headers["x-request-id"] == forwarded.header("x-request-id") == "client-id-1"
    version, trace_id, parent, flags = (forwarded.header("traceparent") or "").split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    assert parent != "b7ad6b7169203331"


def test_an_unsafe_request_id_is_replaced_by_the_trace_id(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/echo/{unique}"
    response = corpus_edge.client.get(path, headers={"X-Request-ID": "evil id\twith tabs"})

    trace_id = (lab.received(path)[-1].header("traceparent") or "").split("-")[1]
    assert response.headers["x-request-id"] == trace_id


def test_every_step_reports_its_time_in_server_timing(
    corpus_edge: EdgeUnderTest, unique: str
) -> None:
    response = corpus_edge.client.get(f"/echo/{unique}")

    entries = [part.strip().split(";")[0] for part in response.headers["server-timing"].split(",")]
    assert entries[:1] == ["edge"]
    assert {"edge-auth", "edge-geo", "edge-cache", "edge-origin"} <= set(entries)


def test_request_bodies_are_forwarded_unchanged(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/auth/{unique}"
    body = b'{"email": "a@example.com", "note": "\xc3\xa9"}'
    corpus_edge.client.post(path, content=body, headers={"Content-Type": "application/json"})

    forwarded = lab.received(path)[-1]
    assert forwarded.body == body
    assert forwarded.header("content-length") == str(len(body))
