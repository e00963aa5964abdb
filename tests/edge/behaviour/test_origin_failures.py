"""When the origin misbehaves, the client gets a JSON 502 or 504 from the edge, never a hang
or a stack trace."""

from __future__ import annotations

import time

import pytest

from tests.data.http import OriginAnswer, origin_answers
from tests.edge.behaviour.conftest import ORIGIN_TIMEOUT_SECONDS, EdgeUnderTest
from tests.edge.support.lab import CLOSE, GARBAGE, HANG, RESET, Lab, LabResponse

# Refused by every runtime (the CPython edge's h11; fetch, then the worker's own header check).
HEADER_INJECTIONS = [a for a in origin_answers("refused") if a.kind == "header-injection"]
# Refused by the CPython edge; a Fetch runtime may read them leniently (Node's fetch does).
LENIENT_HEADS = [a for a in origin_answers("refused") if a.kind == "lenient-head"]


@pytest.mark.parametrize(
    "failure", [GARBAGE, RESET, CLOSE], ids=["garbage", "reset", "closed-without-answer"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_origin_that_answers_garbage_or_drops_the_connection_is_a_502(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, failure: LabResponse, method: str
) -> None:
    path = lab.script(f"/fault/{unique}", failure)

    response = lab_edge.client.request(method, path)

    assert response.status_code == 502
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "bad_gateway"
    assert response.headers["x-cache"] in ("MISS", "BYPASS")


def test_an_origin_that_hangs_is_a_504_after_the_timeout(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/fault/{unique}", HANG)

    started = time.monotonic()
    response = lab_edge.client.get(path)
    waited = time.monotonic() - started

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "gateway_timeout"
    assert ORIGIN_TIMEOUT_SECONDS <= waited < ORIGIN_TIMEOUT_SECONDS + 2


def test_the_edge_recovers_once_the_origin_answers_again(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/fault/{unique}", RESET, LabResponse.json({"ok": True}))

    failed = lab_edge.client.get(path)
    recovered = lab_edge.client.get(path)

    assert (failed.status_code, recovered.status_code) == (502, 200)
    assert recovered.json() == {"ok": True}


def test_origin_error_responses_are_passed_on_unchanged(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    error = {"error": {"code": "conflict", "message": "sku taken"}}
    path = lab.script(f"/fault/{unique}", LabResponse.json(error, status=409))

    response = lab_edge.client.post(path, json={})

    assert (response.status_code, response.json()) == (409, error)


@pytest.mark.parametrize("answer", HEADER_INJECTIONS, ids=[a.name for a in HEADER_INJECTIONS])
def test_an_origin_header_that_would_split_the_answer_is_a_502_never_relayed_nor_kept(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, answer: OriginAnswer
) -> None:
    # Each hostile answer is marked public, max-age=600: kept, it would be served again.
    clean = LabResponse(200, (("cache-control", "public, max-age=600"),), b"clean")
    path = lab.script(f"/fault/{unique}", LabResponse(raw=answer.raw), clean)

    refused = lab_edge.client.get(path)
    after = lab_edge.client.get(path)

    if lab_edge.launcher.name == "workerd" and answer.name.startswith("bare-lf"):
        # workerd reads a bare LF as a line end (RFC 9112 §2.2 allows it), before the worker
        # sees anything: to it the origin sent separate, well-formed headers. Nothing is
        # smuggled inside another header's value, which is what the CPython client refuses.
        assert refused.status_code == 200
        assert all("\n" not in value and "\r" not in value for value in refused.headers.values())
        assert refused.headers.get("x-note") in (None, "a")
        return
    assert (refused.status_code, refused.json()["error"]["code"]) == (502, "bad_gateway")
    assert "set-cookie" not in refused.headers
    assert (after.status_code, after.headers["x-cache"], after.text) == (200, "MISS", "clean")
    assert "set-cookie" not in after.headers


@pytest.mark.parametrize("answer", LENIENT_HEADS, ids=[a.name for a in LENIENT_HEADS])
def test_an_origin_head_read_leniently_or_not_never_relays_a_header_it_hides(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, answer: OriginAnswer
) -> None:
    path = lab.script(f"/fault/{unique}", LabResponse(raw=answer.raw))

    response = lab_edge.client.get(path)

    assert "set-cookie" not in response.headers
    if lab_edge.launcher.name == "cpython" or response.status_code != 200:
        assert (response.status_code, response.json()["error"]["code"]) == (502, "bad_gateway")
