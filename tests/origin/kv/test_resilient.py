"""Redis dies, hangs and comes back mid-test: requests keep being answered, quickly.

Each test runs its own redis-server, so killing or freezing it disturbs nobody else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from origin.kv import RedisStore, ResilientStore, StoreUnavailable
from tests.support.redis_server import RedisServer

from .manual_clock import ManualClock

pytestmark = pytest.mark.anyio

COOLDOWN = 5.0
TIMEOUT = 0.2


@pytest.fixture
async def store(
    anyio_backend: str, private_redis: RedisServer, clock: ManualClock
) -> AsyncIterator[ResilientStore]:
    inner = RedisStore(
        private_redis.url, prefix="app:", timeout_seconds=TIMEOUT, connect_timeout_seconds=TIMEOUT
    )
    resilient = ResilientStore(inner, cooldown_seconds=COOLDOWN, clock=clock)
    try:
        yield resilient
    finally:
        await resilient.aclose()


def redis_errors(store: ResilientStore) -> int:
    """How many calls actually reached Redis and failed."""
    return store.inner.stats.errors


async def test_when_redis_is_killed_every_operation_degrades_as_specified(
    private_redis: RedisServer, store: ResilientStore
) -> None:
    await store.cache_put("response:/p", b"cached", ["products"], ttl_seconds=60)
    assert await store.get("response:/p") == b"cached"
    assert store.healthy

    private_redis.kill()

    assert await store.get("response:/p") is None  # a cache read misses
    assert not store.healthy
    await store.cache_put("response:/p", b"new", ["products"], ttl_seconds=60)  # dropped
    assert await store.invalidate_tags(["products"]) == 0  # remembered for later
    decision = await store.hit("addr:1", limit=1, window_seconds=60)
    assert decision.allowed  # rate limiting fails open
    assert decision.limit == 1
    decision, cached = await store.hit_and_read("addr:1", 1, 60, ["response:/p"])
    assert (decision.allowed, cached) == (True, [None])  # both at once: the same, together
    # State cannot be faked or silently lost: the caller falls back to the database.
    with pytest.raises(StoreUnavailable):
        await store.add("idem:1", b"lock", ttl_seconds=60)
    with pytest.raises(StoreUnavailable):
        await store.set("revoked:jti", b"1", ttl_seconds=60)
    with pytest.raises(StoreUnavailable):
        await store.delete("idem:1")
    with pytest.raises(StoreUnavailable):
        await store.ping()

    assert redis_errors(store) == 1  # only the first call waited for Redis
    assert store.stats.degraded == 9
    assert store.stats.misses == 2


async def test_a_readiness_check_fails_while_redis_is_down(
    private_redis: RedisServer, store: ResilientStore
) -> None:
    await store.check()
    private_redis.kill()

    with pytest.raises(StoreUnavailable):
        await store.check()
    with pytest.raises(StoreUnavailable):
        await store.check()  # it asks Redis each time, cool-down or not
    assert redis_errors(store) == 2
    assert not store.healthy


async def test_once_the_breaker_is_open_a_hung_redis_costs_no_more_timeouts(
    private_redis: RedisServer, store: ResilientStore
) -> None:
    await store.ping()
    private_redis.freeze()
    try:
        started = time.perf_counter()
        assert await store.get("k") is None
        first_call = time.perf_counter() - started

        started = time.perf_counter()
        for number in range(200):
            assert await store.get(f"k{number}") is None
            assert (await store.hit("addr:1", limit=1, window_seconds=60)).allowed
            await store.cache_put(f"k{number}", b"v", ["t"], ttl_seconds=60)
        next_600_calls = time.perf_counter() - started
    finally:
        private_redis.thaw()

    assert first_call >= TIMEOUT * 0.9  # the one request that found out waited one timeout
    assert next_600_calls < TIMEOUT / 4  # nobody else waited at all
    assert redis_errors(store) == 1


async def test_the_store_recovers_by_itself_when_redis_is_back(
    private_redis: RedisServer, store: ResilientStore, clock: ManualClock
) -> None:
    await store.hit("addr:1", limit=1, window_seconds=60)  # the script is loaded
    private_redis.kill()
    assert await store.get("k") is None
    private_redis.start()

    await store.cache_put("k", b"too early", [], ttl_seconds=60)
    assert await store.get("k") is None  # still cooling down: Redis is not asked yet
    assert redis_errors(store) == 1
    clock.advance(COOLDOWN)

    await store.set("k", b"v", ttl_seconds=60)
    assert store.healthy
    assert await store.get("k") == b"v"
    assert await store.add("idem:1", b"lock", ttl_seconds=60) is True
    # Rate limits are shared again (and the lost script was loaded again).
    assert (await store.hit("addr:1", limit=1, window_seconds=60)).allowed
    assert not (await store.hit("addr:1", limit=1, window_seconds=60)).allowed


async def test_a_probe_that_fails_waits_another_full_cool_down(
    private_redis: RedisServer, store: ResilientStore, clock: ManualClock
) -> None:
    private_redis.kill()
    await store.get("k")
    clock.advance(COOLDOWN)

    await store.get("k")  # probes, fails
    assert redis_errors(store) == 2
    await store.get("k")
    clock.advance(COOLDOWN - 0.1)
    await store.get("k")

    assert redis_errors(store) == 2


async def test_a_readiness_check_brings_the_store_back_before_the_cool_down_ends(
    private_redis: RedisServer, store: ResilientStore
) -> None:
    private_redis.kill()
    await store.get("k")
    private_redis.start()

    await store.check()

    assert store.healthy
    await store.set("k", b"v", ttl_seconds=60)
    assert await store.get("k") == b"v"


async def test_while_probing_only_one_request_waits_for_redis(
    private_redis: RedisServer, store: ResilientStore, clock: ManualClock
) -> None:
    await store.ping()
    private_redis.freeze()
    try:
        await store.get("k")
        clock.advance(COOLDOWN)
        started = time.perf_counter()
        results = await asyncio.gather(*(store.get(f"k{n}") for n in range(20)))
        elapsed = time.perf_counter() - started
    finally:
        private_redis.thaw()

    assert results == [None] * 20
    assert redis_errors(store) == 2  # the trip, then one probe
    assert elapsed < TIMEOUT * 2


async def test_invalidations_missed_in_an_outage_are_replayed_before_the_cache_is_read(
    private_redis: RedisServer, store: ResilientStore, clock: ManualClock
) -> None:
    await store.cache_put("response:/products", b"stale", ["products"], ttl_seconds=60)
    await store.cache_put("response:/orders", b"fresh", ["orders"], ttl_seconds=60)
    private_redis.freeze()  # a hung server keeps its data
    try:
        assert await store.get("response:/orders") is None  # trips the breaker
        assert await store.invalidate_tags(["products"]) == 0  # Redis never sees this
    finally:
        private_redis.thaw()
    assert await private_redis_value(private_redis, "app:k:response:/products") == b"stale"
    clock.advance(COOLDOWN)

    assert await store.get("response:/products") is None
    assert await store.get("response:/orders") == b"fresh"


async def test_past_the_replay_limit_every_tagged_entry_is_dropped_on_recovery(
    private_redis: RedisServer, clock: ManualClock
) -> None:
    inner = RedisStore(private_redis.url, prefix="app:", timeout_seconds=TIMEOUT)
    store = ResilientStore(inner, cooldown_seconds=COOLDOWN, max_pending_tags=2, clock=clock)
    try:
        await store.cache_put("response:/a", b"a", ["a"], ttl_seconds=60)
        await store.cache_put("response:/untouched", b"u", ["u"], ttl_seconds=60)
        await store.set("revoked:jti", b"1", ttl_seconds=60)
        private_redis.freeze()
        try:
            await store.get("x")  # trips the breaker
            await store.invalidate_tags(["a", "b", "c"])  # more than two: too many to remember
        finally:
            private_redis.thaw()
        clock.advance(COOLDOWN)

        assert await store.get("response:/untouched") is None
        assert await store.get("response:/a") is None
        assert await store.get("revoked:jti") == b"1"  # not a cache entry: kept
    finally:
        await store.aclose()


async def test_rate_limiting_warns_once_per_outage_not_once_per_request(
    private_redis: RedisServer,
    store: ResilientStore,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="outpost.origin.kv")
    private_redis.kill()
    for _ in range(50):
        assert (await store.hit("addr:1", limit=1, window_seconds=60)).allowed

    private_redis.start()
    clock.advance(COOLDOWN)
    assert (await store.hit("addr:1", limit=1, window_seconds=60)).allowed
    assert not (await store.hit("addr:1", limit=1, window_seconds=60)).allowed
    private_redis.kill()
    for _ in range(50):
        assert (await store.hit("addr:1", limit=1, window_seconds=60)).allowed

    fail_open = [r for r in caplog.records if "fail open" in r.getMessage()]
    outages = [r for r in caplog.records if "bypassing the cache" in r.getMessage()]
    assert len(fail_open) == 2
    assert len(outages) == 2


async def private_redis_value(server: RedisServer, key: str) -> bytes | None:
    client = server.client()
    try:
        value: bytes | None = client.get(key)  # type: ignore[assignment]
        return value
    finally:
        client.close()
