"""The dispatcher delivers the outbox to Cloudflare's contract server: batched and coalesced
within the plan, waiting out 429s, backing off from 5xx and timeouts, keeping purges that a bad
token cannot deliver. SQLite and PostgreSQL, a real local HTTP server, short clocks."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.observability.metrics import Registry
from origin.purge.cloudflare import CloudflarePurger
from origin.purge.dispatcher import Dispatcher
from origin.purge.limits import PlanLimits
from origin.purge.metrics import PurgeMetrics
from origin.purge.outbox import backlog, pending_tags
from tests.origin.purge.conftest import purge_settings, record
from tests.support.cloudflare_api import Answer, CloudflareApi, failure

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def dispatching(
    engine: AsyncEngine, api: CloudflareApi, **overrides: Any
) -> AsyncIterator[PurgeMetrics]:
    """A dispatcher delivering to ``api`` for the block (full back-off, no jitter)."""
    settings = purge_settings(api, **overrides)
    metrics = PurgeMetrics(Registry())
    purger = CloudflarePurger(settings)
    dispatcher = Dispatcher(engine, purger, settings, metrics, jitter=lambda: 1.0)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        yield metrics
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await purger.aclose()


async def until(condition: Callable[[], Any], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_purges_go_out_batched_within_the_plan_and_coalesced(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, cloudflare: CloudflareApi
) -> None:
    # 150 writes, each touching the catalog and one product: 300 rows, 151 distinct tags.
    await record(sessions, *(["products", f"product:{number}"] for number in range(150)))

    async with dispatching(engine, cloudflare) as metrics:
        await until(lambda: _empty(engine))

    requests = cloudflare.acknowledged()
    assert [len(request.tags) for request in requests] == [100, 51]
    sent = cloudflare.acknowledged_tags()
    assert sorted(sent) == sorted({"products", *(f"product:{n}" for n in range(150))})
    assert metrics.deliveries.value() == 2
    assert metrics.delivered_rows.value() == 300
    assert metrics.delivery_seconds.count() == 300


async def test_a_429_stops_every_request_until_its_retry_after(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, cloudflare: CloudflareApi
) -> None:
    await record(sessions, ["products"])
    cloudflare.answer_next(Answer(429, failure(1134, "rate limited"), headers={"Retry-After": "1"}))

    async with dispatching(engine, cloudflare) as metrics:
        await until(lambda: _empty(engine))

    limited, delivered = cloudflare.received()
    assert (limited.status, delivered.status) == (429, 200)
    assert delivered.arrived - limited.at >= 0.95
    assert metrics.retries.value(("rate_limited",)) == 1
    assert metrics.failures.value(("authentication",)) == 0


async def test_server_errors_and_timeouts_are_retried_with_growing_back_off(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, cloudflare: CloudflareApi
) -> None:
    await record(sessions, ["products"])
    cloudflare.answer_next(
        Answer(500, failure(10013, "Internal error")),
        Answer(503, raw=b"<html>unavailable</html>"),
        Answer(delay_seconds=1.0),  # longer than the client waits
    )

    async with dispatching(
        engine,
        cloudflare,
        request_timeout_seconds=0.3,
        backoff_first_seconds=0.2,
        backoff_longest_seconds=0.5,
    ) as metrics:
        await until(lambda: _empty(engine))

    arrivals = [request.arrived for request in cloudflare.received()]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4
    # Waits of 0.2 s, 0.4 s, then 0.5 s (the cap), after the 0.3 s the timeout itself took.
    assert gaps[0] >= 0.19
    assert gaps[1] >= 0.39
    assert gaps[2] >= 0.3 + 0.49
    assert metrics.retries.value(("server_error",)) == 2
    assert metrics.retries.value(("timeout",)) == 1
    assert metrics.deliveries.value() == 1


async def test_a_token_cloudflare_refuses_keeps_the_purges_queued_and_says_so(
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    cloudflare: CloudflareApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await record(sessions, ["products", "product:1"])

    with caplog.at_level(logging.ERROR, logger="outpost.purger"):
        async with dispatching(engine, cloudflare, api_token="revoked-token") as metrics:
            await cloudflare.wait_for(2)

    assert {request.status for request in cloudflare.received()} == {403}
    assert await pending_tags(engine) == ["products", "product:1"]
    state = await backlog(engine)
    assert state.most_attempts >= 2
    assert state.last_error is not None
    assert "10000" in state.last_error
    assert metrics.failures.value(("authentication",)) >= 2
    assert metrics.deliveries.value() == 0
    assert any("refused" in record.getMessage() for record in caplog.records)


async def test_requests_keep_to_the_plans_rate_after_its_burst(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, cloudflare: CloudflareApi
) -> None:
    # One tag per request, a burst of 2, then 5 requests a second: 4 tags take >= 0.4 s.
    await record(sessions, *([f"product:{number}"] for number in range(4)))
    limits = PlanLimits(requests_per_second=5, bucket=2, operations_per_request=1)

    async with dispatching(engine, cloudflare, limits=limits):
        await until(lambda: _empty(engine))

    arrivals = [request.arrived for request in cloudflare.received()]
    assert len(arrivals) == 4
    assert arrivals[1] - arrivals[0] < 0.15, "the burst goes at once"
    assert arrivals[3] - arrivals[0] >= 0.35


async def test_the_backlog_is_measured_while_it_waits(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, cloudflare: CloudflareApi
) -> None:
    await record(sessions, ["products"], ["products"])

    async with dispatching(engine, cloudflare, api_token="revoked-token") as metrics:
        await cloudflare.wait_for(1)
        await asyncio.sleep(0.2)

    assert metrics.depth.value() == 2
    assert metrics.oldest_age.value() > 0


async def _empty(engine: AsyncEngine) -> bool:
    return not await pending_tags(engine)
