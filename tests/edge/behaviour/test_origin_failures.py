"""When the origin misbehaves, the client gets a JSON 502 or 504 from the edge, never a hang
or a stack trace."""

from __future__ import annotations

import time

import pytest

from tests.edge.behaviour.conftest import ORIGIN_TIMEOUT_SECONDS, EdgeUnderTest
from tests.edge.support.lab import CLOSE, GARBAGE, HANG, RESET, Lab, LabResponse


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
