"""Purge by tag over a plain key-value cache: per-tag records whose ids are embedded in entries.

The properties that matter: a purge makes every copy carrying the tag a miss; losing a tag
record (eviction) can only cause misses, never bring a purged copy back; and a copy whose fetch
began before a purge of its tag is never stored.
"""

from __future__ import annotations

import pytest

from edge.cache_store import TAG_PREFIX, StoredResponse, TaggedCache, decode
from edge.runtime.cpython.memory_cache import MemoryCache
from tests.edge.support.clocks import Random, SteppedClock

pytestmark = pytest.mark.anyio
NO_HEADERS: dict[str, list[str]] = {}


def response(
    body: bytes, *tags: str, fetched_at: float, vary: tuple[str, ...] = ()
) -> StoredResponse:
    return StoredResponse(
        status=200,
        headers=[("content-type", "text/plain")],
        body=body,
        request_time=fetched_at,
        response_time=fetched_at,
        tags=tags,
        vary=vary,
    )


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def memory() -> MemoryCache:
    return MemoryCache()


@pytest.fixture
def store(memory: MemoryCache, clock: SteppedClock) -> TaggedCache:
    return TaggedCache(memory, clock, Random())


async def test_a_stored_copy_is_found_under_its_key(
    store: TaggedCache, clock: SteppedClock
) -> None:
    assert await store.store("/a", response(b"A", "t", fetched_at=clock.now()), NO_HEADERS, 60)

    found = await store.lookup("/a", NO_HEADERS)

    assert found is not None
    assert (found.body, found.tags) == (b"A", ("t",))


async def test_a_purge_hides_every_copy_with_the_tag_and_no_other(
    store: TaggedCache, clock: SteppedClock
) -> None:
    for key, tags in (("/a", ("t", "u")), ("/b", ("t",)), ("/c", ("u",))):
        await store.store(
            key, response(key.encode(), *tags, fetched_at=clock.now()), NO_HEADERS, 60
        )
    clock.advance(1)

    await store.purge(["t"])

    assert [await store.lookup(key, NO_HEADERS) is None for key in ("/a", "/b", "/c")] == [
        True,
        True,
        False,
    ]


async def test_copies_stored_after_a_purge_are_served(
    store: TaggedCache, clock: SteppedClock
) -> None:
    await store.purge(["t"])
    clock.advance(1)

    await store.store("/a", response(b"new", "t", fetched_at=clock.now()), NO_HEADERS, 60)

    assert await store.lookup("/a", NO_HEADERS) is not None


async def test_a_copy_fetched_before_a_purge_of_its_tag_is_not_stored(
    store: TaggedCache, clock: SteppedClock
) -> None:
    fetch_started = clock.now()
    clock.advance(0.5)
    await store.purge(["t"])  # a write lands while the read is in flight
    clock.advance(0.5)

    stored = await store.store(
        "/a", response(b"old", "t", fetched_at=fetch_started), NO_HEADERS, 60
    )

    assert stored is False
    assert await store.lookup("/a", NO_HEADERS) is None


async def test_a_lost_tag_record_makes_its_copies_misses(
    store: TaggedCache, memory: MemoryCache, clock: SteppedClock
) -> None:
    await store.store("/a", response(b"A", "t", fetched_at=clock.now()), NO_HEADERS, 60)

    await memory.delete(TAG_PREFIX + "t")  # evicted, expired, or deleted by a global purge

    assert await store.lookup("/a", NO_HEADERS) is None


async def test_a_purge_then_eviction_of_the_record_never_resurrects_a_copy(
    store: TaggedCache, memory: MemoryCache, clock: SteppedClock
) -> None:
    await store.store("/a", response(b"A", "t", fetched_at=clock.now()), NO_HEADERS, 60)
    clock.advance(1)
    await store.purge(["t"])
    await memory.delete(TAG_PREFIX + "t")

    assert await store.lookup("/a", NO_HEADERS) is None


async def test_untagged_copies_need_no_records(store: TaggedCache, clock: SteppedClock) -> None:
    await store.store("/a", response(b"A", fetched_at=clock.now()), NO_HEADERS, 60)

    assert await store.lookup("/a", NO_HEADERS) is not None


async def test_variants_are_kept_apart_by_the_vary_headers(
    store: TaggedCache, clock: SteppedClock
) -> None:
    english = {"accept-language": ["en"]}
    german = {"accept-language": ["de"]}
    vary = ("accept-language",)
    await store.store("/a", response(b"en", fetched_at=clock.now(), vary=vary), english, 60)
    await store.store("/a", response(b"de", fetched_at=clock.now(), vary=vary), german, 60)

    found_en = await store.lookup("/a", english)
    found_de = await store.lookup("/a", german)

    assert (found_en and found_en.body, found_de and found_de.body) == (b"en", b"de")
    assert await store.lookup("/a", {"accept-language": ["fr"]}) is None


async def test_invalidate_removes_one_key(store: TaggedCache, clock: SteppedClock) -> None:
    await store.store("/a", response(b"A", fetched_at=clock.now()), NO_HEADERS, 60)

    await store.invalidate("/a")

    assert await store.lookup("/a", NO_HEADERS) is None


def test_corrupt_stored_values_decode_to_nothing() -> None:
    assert decode(b"not json\nbody") is None
    assert decode(b'{"s": 200}\nbody') is None
    assert decode(b"[1, 2]\n") is None


def test_a_stored_response_round_trips_through_its_encoding() -> None:
    original = response(b"\x00binary\nbody", "a", fetched_at=5.0, vary=("accept",))
    original.tag_ids = ("id-1",)

    assert decode(original.encode()) == original
