"""The Redis store: one round trip per operation, its own namespace, bounded waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis

from origin.kv import RedisStore, StoreUnavailable
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer

from .conftest import delete_namespace

pytestmark = pytest.mark.anyio


@pytest.fixture
async def private_store(
    anyio_backend: str, private_redis: RedisServer
) -> AsyncIterator[RedisStore]:
    store = RedisStore(private_redis.url, prefix="app:", timeout_seconds=0.2)
    try:
        yield store
    finally:
        await store.aclose()


def commands_run_by(server: RedisServer) -> Callable[[], dict[str, int]]:
    """Start counting the server's commands; the returned function reads the counts."""
    client = server.client()
    client.config_resetstat()

    def counts() -> dict[str, int]:
        stats: dict[str, Any] = client.info("commandstats")
        client.close()
        return {
            name.removeprefix("cmdstat_"): entry["calls"]
            for name, entry in stats.items()
            if not name.startswith(("cmdstat_config", "cmdstat_info"))
        }

    return counts


async def test_a_cache_read_is_one_plain_get(
    private_redis: RedisServer, private_store: RedisStore
) -> None:
    await private_store.cache_put("response:/p", b"v", ["products"], ttl_seconds=30)
    counted = commands_run_by(private_redis)

    assert await private_store.get("response:/p") == b"v"

    assert counted() == {"get": 1}


async def test_a_rate_limit_hit_is_one_script_call(
    private_redis: RedisServer, private_store: RedisStore
) -> None:
    await private_store.hit("addr:1", limit=10, window_seconds=1)
    counted = commands_run_by(private_redis)

    await private_store.hit("addr:1", limit=10, window_seconds=1)

    calls = counted()
    assert calls.pop("evalsha") == 1
    assert set(calls) <= {"time", "get", "set"}  # what the script itself runs


async def test_caching_under_tags_and_invalidating_are_one_script_call_each(
    private_redis: RedisServer, private_store: RedisStore
) -> None:
    await private_store.cache_put("warm", b"v", ["t"], ttl_seconds=30)
    await private_store.invalidate_tags(["t"])
    counted = commands_run_by(private_redis)

    await private_store.cache_put("response:/p", b"v", ["products", "product:1"], 30)
    await private_store.invalidate_tags(["products", "product:1"])

    calls = counted()
    assert calls.pop("evalsha") == 2
    assert set(calls) <= {"set", "sadd", "pttl", "pexpire", "smembers", "del"}


async def test_scripts_are_loaded_again_after_redis_restarts(
    private_redis: RedisServer, private_store: RedisStore
) -> None:
    await private_store.hit("addr:1", limit=1, window_seconds=60)
    private_redis.kill()
    private_redis.start()

    # The restarted server has no scripts (NOSCRIPT) and the pool's sockets are dead.
    with pytest.raises(StoreUnavailable):
        await private_store.ping()
    assert (await private_store.hit("addr:1", limit=1, window_seconds=60)).allowed
    assert not (await private_store.hit("addr:1", limit=1, window_seconds=60)).allowed
    assert private_store.healthy


async def test_a_hung_redis_costs_one_timeout_not_a_stalled_request(
    private_redis: RedisServer, private_store: RedisStore
) -> None:
    await private_store.ping()
    private_redis.freeze()
    try:
        started = time.perf_counter()
        with pytest.raises(StoreUnavailable, match="Timeout"):
            await private_store.get("k")
        elapsed = time.perf_counter() - started
    finally:
        private_redis.thaw()

    assert 0.15 < elapsed < 0.6
    assert not private_store.healthy
    assert private_store.stats.errors == 1


async def test_a_reply_that_comes_after_its_timeout_is_never_read_as_another_ones(
    private_redis: RedisServer, private_store: RedisStore
) -> None:
    for name in ("a", "b", "c", "d"):
        await private_store.set(name, name.encode(), 30)
    private_redis.freeze()
    try:
        # Two commands in flight on two connections when time runs out; their replies are
        # still on the way, and arrive when the server wakes.
        timed_out = await asyncio.gather(
            private_store.get("a"), private_store.get("b"), return_exceptions=True
        )
    finally:
        private_redis.thaw()

    assert [type(outcome) for outcome in timed_out] == [StoreUnavailable, StoreUnavailable]
    assert list(await asyncio.gather(private_store.get("c"), private_store.get("d"))) == [
        b"c",
        b"d",
    ]
    assert await private_store.get("a") == b"a"


@pytest.mark.parametrize(
    "operation",
    [
        lambda store: store.get("k"),
        lambda store: store.set("k", b"v", 1),
        lambda store: store.add("k", b"v", 1),
        lambda store: store.delete("k"),
        lambda store: store.cache_put("k", b"v", ["t"], 1),
        lambda store: store.invalidate_tags(["t"]),
        lambda store: store.invalidate_all(),
        lambda store: store.hit("b", 1, 1),
        lambda store: store.ping(),
        lambda store: store.check(),
    ],
)
async def test_every_operation_reports_an_unreachable_redis_as_store_unavailable(
    anyio_backend: str, operation: Callable[[RedisStore], Awaitable[object]]
) -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", prefix="app:")
    try:
        with pytest.raises(StoreUnavailable, match="redis"):
            await operation(store)
    finally:
        await store.aclose()
    assert store.stats.errors == 1


async def test_stores_with_different_prefixes_never_see_each_others_keys(
    redis_url: str, redis_prefix: str
) -> None:
    first = RedisStore(redis_url, prefix=redis_prefix + "one:")
    second = RedisStore(redis_url, prefix=redis_prefix + "two:")
    try:
        await first.set("k", b"first", ttl_seconds=30)
        await first.cache_put("response:/p", b"p", ["products"], ttl_seconds=30)
        await first.hit("addr:1", limit=1, window_seconds=30)

        assert await second.get("k") is None
        assert await second.get("response:/p") is None
        assert await second.invalidate_tags(["products"]) == 0
        assert await second.invalidate_all() == 0
        assert (await second.hit("addr:1", limit=1, window_seconds=30)).allowed
        assert await first.get("response:/p") == b"p"
    finally:
        await first.aclose()
        await second.aclose()
        delete_namespace(redis_url, redis_prefix)


async def test_invalidate_all_treats_glob_characters_in_the_prefix_literally(
    redis_url: str, redis_prefix: str
) -> None:
    starred = RedisStore(redis_url, prefix=redis_prefix + "a*:")
    neighbour = RedisStore(redis_url, prefix=redis_prefix + "ab:")
    try:
        await neighbour.cache_put("response:/n", b"n", ["t"], ttl_seconds=30)
        await starred.cache_put("response:/s", b"s", ["t"], ttl_seconds=30)

        assert await starred.invalidate_all() == 1
        assert await neighbour.get("response:/n") == b"n"
    finally:
        await starred.aclose()
        await neighbour.aclose()
        delete_namespace(redis_url, redis_prefix)


async def test_nothing_is_written_without_an_expiry(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix)
    client = redis.Redis.from_url(redis_url)
    try:
        await store.set("k", b"v", ttl_seconds=30)
        await store.add("lock", b"v", ttl_seconds=30)
        await store.cache_put("response:/p", b"p", ["products", "product:1"], ttl_seconds=30)
        await store.cache_put("response:/q", b"q", ["products"], ttl_seconds=90)
        await store.hit("addr:1", limit=5, window_seconds=30)

        keys = list(client.scan_iter(match=redis_prefix + "*"))
        ttls = {key.decode().removeprefix(redis_prefix): client.pttl(key) for key in keys}
    finally:
        client.close()
        await store.aclose()
        delete_namespace(redis_url, redis_prefix)

    assert set(ttls) == {
        "k:k", "k:lock", "k:response:/p", "k:response:/q",
        "t:products", "t:product:1", "r:addr:1",
    }  # fmt: skip
    assert all(ttl > 0 for ttl in ttls.values())
    # A tag set lives as long as its longest-lived entry.
    assert 89_000 < ttls["t:products"] <= 90_000


async def test_a_tag_with_thousands_of_entries_is_invalidated_in_one_call(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix)
    try:
        # More members than one DEL slice in the script; a few at a time keeps the pool small.
        for first in range(0, 1200, 10):
            await asyncio.gather(
                *(
                    store.cache_put(f"response:/{number}", b"x", ["big"], ttl_seconds=30)
                    for number in range(first, first + 10)
                )
            )

        assert await store.invalidate_tags(["big"]) == 1200
        assert await store.get("response:/1199") is None
    finally:
        await store.aclose()
        delete_namespace(redis_url, redis_prefix)


async def test_after_one_failure_no_request_is_handed_a_stale_pooled_connection(
    private_redis: RedisServer, private_store: RedisStore
) -> None:
    await asyncio.gather(*(private_store.get(f"k{n}") for n in range(10)))  # fill the pool
    private_redis.kill()
    private_redis.start()

    with pytest.raises(StoreUnavailable):
        await private_store.get("k0")
    results = await asyncio.gather(
        *(private_store.get(f"k{n}") for n in range(10)), return_exceptions=True
    )

    assert results == [None] * 10
