"""Measure (not assert) what a cached read, a rate-limit hit and both in one call cost on Redis.

Run: ``.venv/bin/python -m tests.origin.kv.measure_roundtrips [REDIS_URL] [ITERATIONS]``.
Prints microseconds per operation, one request at a time (as a request sees it). Rounds of each
subject are interleaved and the median round is reported, so a busy machine skews all alike;
plain redis-py GET is the baseline the stores add to.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import redis.asyncio

from origin.kv import MemoryStore, RedisStore, ResilientStore, Store

from .conftest import delete_namespace

ROUNDS = 7
CACHED_KEY = "response:/api/products"
CACHED_BODY = b"x" * 2048

Operation = Callable[[], Awaitable[object]]


async def per_operation_us(operation: Operation, iterations: int) -> float:
    started = time.perf_counter()
    for _ in range(iterations):
        await operation()
    return (time.perf_counter() - started) / iterations * 1e6


async def median_us(operations: dict[str, Operation], iterations: int) -> dict[str, float]:
    for operation in operations.values():  # warm pools and script caches
        await per_operation_us(operation, 200)
    rounds: dict[str, list[float]] = {name: [] for name in operations}
    per_round = max(1, iterations // ROUNDS)
    for _ in range(ROUNDS):
        for name, operation in operations.items():
            rounds[name].append(await per_operation_us(operation, per_round))
    return {name: statistics.median(values) for name, values in rounds.items()}


def store_operations(name: str, store: Store) -> dict[str, Operation]:
    return {
        f"{name} cached GET": lambda: store.get(CACHED_KEY),
        f"{name} rate-limit hit": lambda: store.hit("ratelimit:addr:127.0.0.1", 10**9, 60.0),
        f"{name} hit + cached read": lambda: store.hit_and_read(
            "ratelimit:addr:127.0.0.1", 10**9, 60.0, [CACHED_KEY]
        ),
    }


async def main(url: str, iterations: int) -> None:
    prefix = f"outpost-measure:{secrets.token_hex(4)}:"
    stores: dict[str, Store] = {
        "MemoryStore": MemoryStore(),
        "RedisStore": RedisStore(url, prefix=prefix),
        "ResilientStore(Redis)": ResilientStore(RedisStore(url, prefix=prefix)),
    }
    baseline = redis.asyncio.Redis.from_url(url)
    try:
        operations: dict[str, Operation] = {
            "redis-py GET (baseline)": lambda: baseline.get(prefix + "k:" + CACHED_KEY)
        }
        for name, store in stores.items():
            await store.cache_put(CACHED_KEY, CACHED_BODY, ["products"], ttl_seconds=600)
            operations.update(store_operations(name, store))
        for name, value in (await median_us(operations, iterations)).items():
            print(f"{name:<40} {value:8.1f} us/op")
    finally:
        await baseline.aclose()
        for store in stores.values():
            await store.aclose()
        delete_namespace(url, prefix)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    default_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    asyncio.run(
        main(
            arguments[0] if arguments else default_url,
            int(arguments[1]) if len(arguments) > 1 else 2000,
        )
    )
