"""Stores under test: the contract runs against memory and the shared Redis alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import redis

from origin.kv import MemoryStore, RedisStore, Store

from .manual_clock import ManualClock


@dataclass
class StoreUnderTest:
    """A store and the way to let time pass for it (moving a clock, or really waiting)."""

    kind: str
    store: Store
    advance: Callable[[float], Awaitable[None]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def redis_store(
    anyio_backend: str, redis_url: str, redis_prefix: str
) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_url, prefix=redis_prefix)
    try:
        yield store
    finally:
        await store.aclose()
        delete_namespace(redis_url, redis_prefix)


@pytest.fixture(params=["memory", "redis"])
async def subject(
    request: pytest.FixtureRequest, anyio_backend: str, clock: ManualClock
) -> AsyncIterator[StoreUnderTest]:
    if request.param == "memory":

        async def move_clock(seconds: float) -> None:
            clock.advance(seconds)

        yield StoreUnderTest("memory", MemoryStore(clock=clock), move_clock)
        return

    # Only the Redis half needs the service, so its fixtures are asked for here, by name.
    redis_url: str = request.getfixturevalue("redis_url")
    redis_prefix: str = request.getfixturevalue("redis_prefix")
    store = RedisStore(redis_url, prefix=redis_prefix)
    try:
        yield StoreUnderTest("redis", store, asyncio.sleep)
    finally:
        await store.aclose()
        delete_namespace(redis_url, redis_prefix)


def delete_namespace(redis_url: str, prefix: str) -> None:
    """Remove one test's keys; the shared Redis is never flushed."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
