"""The CPython edge's response cache: an LRU bounded by entries and by bytes, with TTLs."""

from __future__ import annotations

import pytest

from edge.runtime.cpython.memory_cache import MemoryCache

pytestmark = pytest.mark.anyio


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_values_come_back_until_their_time_to_live_is_over() -> None:
    clock = Ticking()
    cache = MemoryCache(clock=clock)
    await cache.put("k", b"v", ttl_seconds=10)

    clock.now = 9.9
    assert await cache.get("k") == b"v"
    clock.now = 10
    assert await cache.get("k") is None
    assert len(cache) == 0


async def test_the_least_recently_used_entry_goes_first_when_the_count_bound_is_reached() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.put("a", b"1", 60)
    await cache.put("b", b"2", 60)
    assert await cache.get("a") == b"1"  # now b is the least recently used

    await cache.put("c", b"3", 60)

    assert [await cache.get(key) for key in "abc"] == [b"1", None, b"3"]


async def test_the_byte_bound_counts_keys_and_values() -> None:
    cache = MemoryCache(max_bytes=10)
    await cache.put("a", b"1234", 60)  # 5 bytes
    await cache.put("b", b"1234", 60)  # 10 bytes: at the bound
    await cache.put("c", b"1", 60)  # 12 bytes: "a" must go

    assert await cache.get("a") is None
    assert cache.size_bytes == 7


async def test_a_value_larger_than_the_whole_cache_is_not_kept_and_evicts_nothing() -> None:
    cache = MemoryCache(max_bytes=10)
    await cache.put("a", b"1", 60)
    await cache.put("big", b"x" * 20, 60)

    assert await cache.get("big") is None
    assert await cache.get("a") == b"1"


async def test_replacing_and_deleting_keep_the_byte_count_right() -> None:
    cache = MemoryCache()
    await cache.put("a", b"12345", 60)
    await cache.put("a", b"1", 60)
    assert cache.size_bytes == 2
    await cache.delete("a")
    await cache.delete("never-there")
    assert (cache.size_bytes, len(cache)) == (0, 0)


async def test_a_zero_time_to_live_stores_nothing() -> None:
    cache = MemoryCache()
    await cache.put("a", b"1", 0)

    assert await cache.get("a") is None


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        MemoryCache(max_entries=0)
