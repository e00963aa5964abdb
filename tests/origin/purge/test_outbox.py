"""Dispatchers claim, settle and release outbox rows: coalesced batches within the plan's
operations per request, leases that keep two dispatchers apart and hand a dead one's rows over,
and deletion of exactly what Cloudflare acknowledged. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db import create_engine
from origin.db.types import utcnow
from origin.purge.models import PURGE_OUTBOX
from origin.purge.outbox import (
    acknowledge,
    backlog,
    claim,
    oldest_age_seconds,
    pending_tags,
    release,
)
from tests.origin.purge.conftest import record

pytestmark = pytest.mark.anyio

LEASE = 30.0


async def test_duplicates_coalesce_into_one_operation_and_settle_together(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await record(sessions, ["products", "product:1"], ["products", "product:2"], ["products"])

    batch = await claim(engine, max_tags=100, lease_seconds=LEASE)

    assert batch is not None
    assert batch.tags == ("products", "product:1", "product:2")
    assert batch.rows == 5
    assert await acknowledge(engine, batch) == 5
    assert await pending_tags(engine) == []


async def test_a_batch_holds_at_most_the_plans_operations_oldest_first(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await record(sessions, [f"product:{number}" for number in range(150)])

    first = await claim(engine, max_tags=100, lease_seconds=LEASE)
    second = await claim(engine, max_tags=100, lease_seconds=LEASE)

    assert first is not None
    assert second is not None
    assert first.tags == tuple(f"product:{number}" for number in range(100))
    assert second.tags == tuple(f"product:{number}" for number in range(100, 150))
    assert await claim(engine, max_tags=100, lease_seconds=LEASE) is None


async def test_a_leased_batch_is_nobody_elses_until_its_lease_runs_out(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await record(sessions, ["products"])
    first = await claim(engine, max_tags=100, lease_seconds=LEASE)

    during = await claim(engine, max_tags=100, lease_seconds=LEASE)
    after = await claim(
        engine, max_tags=100, lease_seconds=LEASE, now=utcnow() + timedelta(seconds=LEASE + 1)
    )

    assert first is not None
    assert during is None
    assert after is not None, "a dead dispatcher's rows return"
    assert after.tags == ("products",)
    assert await acknowledge(engine, first) == 0, "the rows are the new claim's now"
    assert await acknowledge(engine, after) == 1


async def test_acknowledging_keeps_what_was_committed_after_the_claim(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await record(sessions, ["products"])
    batch = await claim(engine, max_tags=100, lease_seconds=LEASE)
    await record(sessions, ["products"])  # a later write: the purge under way predates it

    assert batch is not None
    await acknowledge(engine, batch)

    assert await pending_tags(engine) == ["products"]


async def test_a_released_batch_backs_off_and_keeps_its_error(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await record(sessions, ["products"])
    batch = await claim(engine, max_tags=100, lease_seconds=LEASE)
    assert batch is not None

    await release(engine, batch, retry_at=utcnow() + timedelta(seconds=60), error="HTTP 503")

    assert await claim(engine, max_tags=100, lease_seconds=LEASE) is None
    state = await backlog(engine)
    assert (state.depth, state.retrying, state.most_attempts) == (1, 1, 1)
    assert state.last_error == "HTTP 503"
    later = await claim(
        engine, max_tags=100, lease_seconds=LEASE, now=utcnow() + timedelta(seconds=61)
    )
    assert later is not None
    assert later.attempts == 1


async def test_a_new_purge_of_a_backing_off_tag_takes_the_old_rows_along(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await record(sessions, ["products"])
    failed = await claim(engine, max_tags=100, lease_seconds=LEASE)
    assert failed is not None
    await release(engine, failed, retry_at=utcnow() + timedelta(seconds=60), error="timeout")
    await record(sessions, ["products"])

    batch = await claim(engine, max_tags=100, lease_seconds=LEASE)

    assert batch is not None
    assert (batch.tags, batch.rows) == (("products",), 2)


async def test_the_age_of_the_oldest_purge_is_what_waits_longest(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    assert await oldest_age_seconds(engine) == 0.0
    await record(sessions, ["products"])
    later = utcnow() + timedelta(seconds=42)

    assert await oldest_age_seconds(engine, now=later) == pytest.approx(42, abs=1)
    state = await backlog(engine)
    assert state.oldest_age_seconds(later) == pytest.approx(42, abs=1)


async def test_dispatchers_claiming_at_once_never_share_a_row(
    sessions: async_sessionmaker[AsyncSession], migrated_url: str
) -> None:
    await record(sessions, *([f"product:{number}"] for number in range(60)))
    engines = [create_engine(migrated_url) for _ in range(4)]
    try:

        async def drain(engine: AsyncEngine) -> list[str]:
            taken: list[str] = []
            while (batch := await claim(engine, max_tags=5, lease_seconds=LEASE)) is not None:
                taken.extend(batch.tags)
            return taken

        claimed = await asyncio.gather(*(drain(engine) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()

    every = [tag for taken in claimed for tag in taken]
    assert sorted(every) == sorted(f"product:{number}" for number in range(60))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_claim_skips_rows_another_claim_holds_instead_of_waiting(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await record(sessions, ["product:1"], ["product:2"])
    # Another dispatcher, midway through claiming the oldest row:
    async with engine.connect() as other, other.begin():
        await other.execute(
            select(PURGE_OUTBOX.c.id).order_by(PURGE_OUTBOX.c.id).limit(1).with_for_update()
        )

        batch = await asyncio.wait_for(claim(engine, max_tags=100, lease_seconds=LEASE), timeout=5)

    assert batch is not None
    assert batch.tags == ("product:2",)
