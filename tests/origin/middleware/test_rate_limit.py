"""Each client has a budget per minute; past it, 429 with Retry-After and RateLimit-* headers."""

from __future__ import annotations

import httpx
import pytest

from tests.origin.conftest import AppClient, Caller

pytestmark = pytest.mark.anyio


async def spend(client: httpx.AsyncClient, times: int) -> list[httpx.Response]:
    return [await client.get("/api/products/1") for _ in range(times)]  # template:demo
    # template:no-demo: return [await client.get("/api/hello") for _ in range(times)]


async def test_the_budget_is_counted_down_then_refused_with_a_retry_time(
    app_client: AppClient, seeded_url: str
) -> None:
    async with app_client(seeded_url, rate_limit_per_minute=3) as client:
        allowed = await spend(client, 3)
        refused = await client.get("/api/products/1")  # template:demo
        # template:no-demo: refused = await client.get("/api/hello")

    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert [r.headers["ratelimit-remaining"] for r in allowed] == ["2", "1", "0"]
    assert all(r.headers["ratelimit-limit"] == "3" for r in allowed)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_health_checks_are_never_limited(app_client: AppClient, seeded_url: str) -> None:
    async with app_client(seeded_url, rate_limit_per_minute=1) as client:
        statuses = [(await client.get("/healthz")).status_code for _ in range(5)]
    assert statuses == [200] * 5


async def test_each_authenticated_subject_has_its_own_budget(
    app_client: AppClient, seeded_url: str, caller: Caller
) -> None:
    async with app_client(seeded_url, rate_limit_per_minute=2) as client:
        caller.becomes("alice")
        alice = await spend(client, 3)
        caller.becomes("bob")
        bob = await spend(client, 2)

    assert [r.status_code for r in alice] == [200, 200, 429]
    assert [r.status_code for r in bob] == [200, 200]


async def test_the_budget_is_shared_by_every_origin_process_through_redis(
    app_client: AppClient, seeded_url: str, redis_url: str, redis_prefix: str
) -> None:
    shared = {"redis_url": redis_url, "redis_prefix": redis_prefix, "rate_limit_per_minute": 4}
    async with (
        app_client(seeded_url, **shared) as first,
        app_client(seeded_url, **shared) as second,
    ):
        statuses = [
            (await client.get("/api/products/1")).status_code  # template:demo
            # template:no-demo: (await client.get("/api/hello")).status_code
            for client in (first, second, first, second, first)
        ]
    assert statuses == [200, 200, 200, 200, 429]


async def test_behind_the_edge_each_client_address_has_its_own_budget(
    app_client: AppClient, seeded_url: str, caller: Caller
) -> None:
    async with app_client(seeded_url, rate_limit_per_minute=2) as client:
        caller.client_address = "203.0.113.1"
        first = await spend(client, 3)
        caller.client_address = "203.0.113.2"
        second = await spend(client, 2)

    assert [r.status_code for r in first] == [200, 200, 429]
    assert [r.status_code for r in second] == [200, 200]
