"""Redis dies while the origin serves: requests keep succeeding, and it recovers by itself."""

from __future__ import annotations

import pytest

from tests.origin.conftest import AppClient, Caller
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio


async def test_requests_are_served_while_redis_is_dead_and_caching_resumes_after(
    app_client: AppClient, seeded_url: str, private_redis: RedisServer, caller: Caller
) -> None:
    async with app_client(seeded_url, redis_url=private_redis.url) as client:
        await client.get("/api/products/1")
        assert (await client.get("/api/products/1")).headers["x-origin-cache"] == "HIT"

        private_redis.kill()
        during = [await client.get("/api/products/1") for _ in range(3)]
        caller.becomes("bob")
        order = await client.post(
            "/api/orders",
            json={"items": [{"product_id": 1, "quantity": 1}]},
            headers={"Idempotency-Key": "while-redis-is-down"},
        )
        retry = await client.post(
            "/api/orders",
            json={"items": [{"product_id": 1, "quantity": 1}]},
            headers={"Idempotency-Key": "while-redis-is-down"},
        )
        caller.leaves()

        private_redis.start()
        await client.get("/readyz")  # readiness probes let the store notice Redis is back
        after = [await client.get("/api/products/1") for _ in range(2)]

    assert [r.status_code for r in during] == [200, 200, 200]
    assert all(r.headers["x-origin-cache"] == "MISS" for r in during)
    assert order.status_code == 201
    assert retry.status_code == 201
    assert retry.json()["id"] == order.json()["id"], "the database's constraint kept it to one"
    assert retry.headers["idempotent-replayed"] == "true"
    assert [r.headers["x-origin-cache"] for r in after] == ["MISS", "HIT"]
