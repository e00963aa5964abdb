# template:demo-only
"""Redis is killed and restarted (empty: no persistence) while orders flow through the edge.

What must hold: the service continues through the outage (orders keep being placed, the rate
limit fails open); once Redis is back, rate limits are enforced again and idempotency records
are kept in it again, by themselves; a retried order is never charged twice, though Redis lost
the records of the orders placed before (the database's constraint answers those retries).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.ledger import (
    COUNTRY,
    OrderLedger,
    acknowledged_at_least,
    keep_ordering,
    stock_levels,
)
from tests.faults.stack import FaultStack, StackOptions
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

LIMIT_PER_MINUTE = 60
LOAD_USERS = 20  # enough subjects that the load spends a fraction of each one's budget
RECOVERY_WITHIN_SECONDS = 20.0


@pytest.fixture
def backend() -> str:
    """PostgreSQL only: Redis comes with it in production, and the database matters little here
    (its constraint answers the retries either way; test_origin_killed.py runs both)."""
    return "postgres"


async def requests_until_limited(client: httpx.AsyncClient, token: str) -> int | None:
    """Send reads as ``token``'s subject until the origin answers 429; how many it took."""
    headers = {"Authorization": f"Bearer {token}", "CF-IPCountry": COUNTRY}
    for sent in range(1, LIMIT_PER_MINUTE + 11):
        if (await client.get("/auth/me", headers=headers)).status_code == 429:
            return sent
    return None


async def recorded_in_redis(redis: RedisServer, keys: list[str], within_seconds: float) -> bool:
    deadline = time.monotonic() + within_seconds
    client = redis.client()
    try:
        while time.monotonic() < deadline:
            if any(client.keys(f"*idempotency:*:{key}") for key in keys):
                return True
            await asyncio.sleep(0.1)
        return False
    finally:
        client.close()


async def test_a_redis_restart_keeps_service_and_recovers_limits_and_idempotency(
    private_redis: RedisServer, migrated_url: str, tmp_path: Path
) -> None:
    options = StackOptions(
        database_url=migrated_url,
        redis_url=private_redis.url,
        users=LOAD_USERS + 2,
        rate_limit_per_minute=LIMIT_PER_MINUTE,
    )
    async with FaultStack(options, tmp_path) as stack:
        load_tokens, probes = stack.tokens[:LOAD_USERS], stack.tokens[LOAD_USERS:]
        stock_before = await stock_levels(migrated_url)
        ledger = OrderLedger(stack.edge_url, load_tokens)
        async with ledger.client() as client:
            limited_before = await requests_until_limited(client, probes[0])
        stop = asyncio.Event()
        load = asyncio.create_task(keep_ordering(ledger, stop, writers=3, pause_seconds=0.1))
        await acknowledged_at_least(ledger, 15, within_seconds=60)
        acknowledged_before = list(ledger.told)

        private_redis.kill()
        down_at = time.monotonic()
        await acknowledged_at_least(ledger, 15, within_seconds=60)
        private_redis.start()
        up_at = time.monotonic()

        await acknowledged_at_least(ledger, 15, within_seconds=RECOVERY_WITHIN_SECONDS)
        stop.set()
        await load
        placed_after = [a.key for a in ledger.attempts if a.started > up_at and a.acknowledged]
        idempotency_recovered = await recorded_in_redis(private_redis, placed_after, 10)
        async with ledger.client() as client:
            replays = [await ledger.place(client, key) for key in acknowledged_before[:5]]
            limited_after = await requests_until_limited(client, probes[1])
        await ledger.settle()
        await ledger.verify(migrated_url, stock_before)

    assert not ledger.unclean(), ledger.unclean()
    during = [a for a in ledger.attempts if down_at <= a.started and a.started + a.elapsed < up_at]
    assert during, "nothing was sent while Redis was down"
    assert all(a.acknowledged for a in during), [a for a in during if not a.acknowledged]
    assert limited_before is not None, "the rate limit was not enforced even before the outage"
    assert limited_after is not None, "the rate limit was not enforced after Redis came back"
    assert idempotency_recovered, "no idempotency record reached Redis after it came back"
    assert all(a.acknowledged for a in replays), replays  # same ids: the ledger checks them
