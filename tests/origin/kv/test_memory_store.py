"""The in-process store: bounded like a cache, timed by the clock it is given."""

from __future__ import annotations

import pytest

from origin.kv import MemoryStore

from .manual_clock import ManualClock

pytestmark = pytest.mark.anyio


async def test_when_full_the_least_recently_used_key_makes_room(clock: ManualClock) -> None:
    store = MemoryStore(max_keys=3, clock=clock)
    for key in ("a", "b", "c"):
        await store.set(key, key.encode(), ttl_seconds=60)
    await store.get("a")  # now "b" is the least recently used

    await store.set("d", b"d", ttl_seconds=60)

    assert await store.get("b") is None
    assert [await store.get(key) for key in ("a", "c", "d")] == [b"a", b"c", b"d"]


async def test_an_evicted_cache_entry_is_no_longer_counted_under_its_tags(
    clock: ManualClock,
) -> None:
    store = MemoryStore(max_keys=2, clock=clock)
    await store.cache_put("response:/1", b"1", ["products"], ttl_seconds=60)
    await store.cache_put("response:/2", b"2", ["products"], ttl_seconds=60)
    await store.cache_put("response:/3", b"3", ["products"], ttl_seconds=60)

    assert await store.invalidate_tags(["products"]) == 2
    assert await store.invalidate_all() == 0


async def test_a_value_replacing_a_cached_entry_leaves_its_old_tags(clock: ManualClock) -> None:
    store = MemoryStore(clock=clock)
    await store.cache_put("k", b"cached", ["products"], ttl_seconds=60)
    await store.set("k", b"plain", ttl_seconds=60)

    assert await store.invalidate_tags(["products"]) == 0
    assert await store.get("k") == b"plain"


async def test_a_flood_of_cached_responses_cannot_reset_a_rate_limit(clock: ManualClock) -> None:
    store = MemoryStore(max_keys=10, clock=clock)
    await store.hit("addr:1", limit=1, window_seconds=60)
    for number in range(100):
        await store.cache_put(f"response:/{number}", b"x", ["t"], ttl_seconds=60)

    assert not (await store.hit("addr:1", limit=1, window_seconds=60)).allowed


async def test_rate_limit_buckets_are_bounded_too(clock: ManualClock) -> None:
    store = MemoryStore(max_buckets=2, clock=clock)
    await store.hit("addr:1", limit=1, window_seconds=60)
    await store.hit("addr:2", limit=1, window_seconds=60)

    await store.hit("addr:3", limit=1, window_seconds=60)

    # The oldest bucket was forgotten, so that client starts over; memory stays bounded.
    assert (await store.hit("addr:1", limit=1, window_seconds=60)).allowed


async def test_time_comes_from_the_injected_clock_not_from_sleeping(clock: ManualClock) -> None:
    store = MemoryStore(clock=clock)
    await store.set("k", b"v", ttl_seconds=3600)

    clock.advance(3599.9)
    assert await store.get("k") == b"v"
    clock.advance(0.1)
    assert await store.get("k") is None


async def test_closing_forgets_everything(clock: ManualClock) -> None:
    store = MemoryStore(clock=clock)
    await store.cache_put("k", b"v", ["t"], ttl_seconds=60)

    await store.aclose()

    assert await store.get("k") is None
    assert await store.invalidate_tags(["t"]) == 0


def test_a_store_must_hold_at_least_one_key() -> None:
    with pytest.raises(ValueError, match="capacity"):
        MemoryStore(max_keys=0)
