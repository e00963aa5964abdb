"""Refused credentials are counted by reason in ``/metrics``, as the log line names it."""

from __future__ import annotations

import pytest

from tests.origin.identity.conftest import Clock, OriginStarter, RunningOrigin, bearer
from tests.origin.identity.test_edge_assertion import assertion
from tests.support.metrics import SampleKey, samples

pytestmark = pytest.mark.anyio


async def scrape(origin: RunningOrigin) -> dict[SampleKey, float]:
    """``/metrics`` as an administrator (the route table keeps it to them)."""
    token = origin.identity.mint(subject="operator", roles=["admin"], session_id=None)
    response = await origin.client.get("/metrics", headers=bearer(token))
    assert response.status_code == 200
    return samples(response.text)


async def test_refused_assertions_are_counted_by_reason(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    async with start_origin(migrated_url) as origin:
        replayed = assertion(clock)
        assert (await origin.client.get("/auth/me", headers=replayed)).status_code == 200
        assert (await origin.client.get("/auth/me", headers=replayed)).status_code == 401
        forged = assertion(clock, secret=b"x" * 32)
        assert (await origin.client.get("/auth/me", headers=forged)).status_code == 401
        expired = assertion(clock, age_seconds=3600)
        assert (await origin.client.get("/auth/me", headers=expired)).status_code == 401
        metrics = await scrape(origin)

    refusals = {
        dict(labels)["reason"]: value
        for (name, labels), value in metrics.items()
        if name == "outpost_assertion_refusals_total"
    }
    assert refusals == {"replayed": 1, "forged": 1, "expired": 1}


async def test_refused_tokens_are_counted_by_reason(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        tokens = await origin.new_account("alice@example.com")
        assert (await origin.me("not.a.token")).status_code == 401
        await origin.client.post("/auth/logout", headers=bearer(tokens["access_token"]))
        assert (await origin.me(tokens["access_token"])).status_code == 401
        metrics = await scrape(origin)

    refusals = {
        dict(labels)["reason"]: value
        for (name, labels), value in metrics.items()
        if name == "outpost_token_refusals_total"
    }
    assert refusals["session_revoked"] == 1
    assert sum(refusals.values()) == 2
    assert set(refusals) - {"session_revoked"} <= {"malformed", "bad_encoding", "bad_json"}
