"""open_store picks the backend from REDIS_URL; a Redis that is down at start-up is no reason
not to start."""

from __future__ import annotations

import time

import pytest

from origin.kv import MemoryStore, RedisStore, ResilientStore, open_store
from tests.support.ports import free_port

from .conftest import delete_namespace

pytestmark = pytest.mark.anyio


async def test_without_a_redis_url_the_store_lives_in_the_process(anyio_backend: str) -> None:
    store = open_store(None, prefix="app:")

    assert isinstance(store, MemoryStore)
    await store.set("k", b"v", ttl_seconds=10)
    assert await store.get("k") == b"v"


async def test_with_a_redis_url_the_store_is_redis_behind_the_degradation_wrapper(
    redis_url: str, redis_prefix: str
) -> None:
    store = open_store(redis_url, prefix=redis_prefix)
    try:
        assert isinstance(store, ResilientStore)
        assert isinstance(store.inner, RedisStore)
        await store.set("k", b"v", ttl_seconds=10)
        assert await store.get("k") == b"v"
        await store.check()
    finally:
        await store.aclose()
        delete_namespace(redis_url, redis_prefix)


async def test_a_redis_that_is_down_at_start_up_degrades_instead_of_failing(
    anyio_backend: str,
) -> None:
    store = open_store(f"redis://127.0.0.1:{free_port()}/0", prefix="app:")
    try:
        started = time.perf_counter()
        assert await store.get("k") is None
        assert (await store.hit("addr:1", limit=1, window_seconds=60)).allowed
        assert time.perf_counter() - started < 0.5
        assert not store.healthy
    finally:
        await store.aclose()
