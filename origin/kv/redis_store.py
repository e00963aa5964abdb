"""The store on Redis: shared by every origin process, one connection pool, short timeouts.

Every operation is one round trip: a cache read is a plain GET, the multi-key operations are Lua
scripts (EVALSHA, loaded again by redis-py when a restarted server answers NOSCRIPT). Timeouts
are short and redis-py's own retries are off, so a dead or frozen Redis costs a request at most
one timeout; :class:`~origin.kv.resilient.ResilientStore` then stops asking it for a while.

Key layout under ``prefix``: ``k:<key>`` values, ``t:<tag>`` tag sets (members are value keys),
``r:<bucket>`` rate-limit state. Nothing is written without an expiry.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import cast

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from origin.kv import gcra, redis_scripts
from origin.kv.base import (
    Lookup,
    RateLimitDecision,
    StoreStats,
    StoreUnavailable,
    as_lookup,
    require_positive_ttl,
    unique_tags,
)

_TAG_KEYS_PER_CALL = 500


class RedisStore:
    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        connect_timeout_seconds: float = 0.25,
        timeout_seconds: float = 0.25,
        max_connections: int = 512,
    ) -> None:
        """``timeout_seconds`` bounds each reply. More than ``max_connections`` commands in
        flight at once fail like an outage: a Redis that far behind is one to stop waiting for.
        """
        # Not BlockingConnectionPool: its condition variable costs ~35 us per command here.
        pool = ConnectionPool.from_url(
            url,
            max_connections=max_connections,
            socket_connect_timeout=connect_timeout_seconds,
            socket_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),
        )
        self._redis = Redis.from_pool(pool)
        self.stats = StoreStats()
        self._healthy = True
        self._guard = _OutageGuard(self)
        self._values = prefix + "k:"
        self._tags = prefix + "t:"
        self._buckets = prefix + "r:"
        self._cache_put = self._redis.register_script(redis_scripts.CACHE_PUT)
        self._invalidate = self._redis.register_script(redis_scripts.INVALIDATE_TAGS)
        self._rate_limit = self._redis.register_script(redis_scripts.RATE_LIMIT_HIT)

    @property
    def healthy(self) -> bool:
        return self._healthy

    async def get(self, key: str) -> bytes | None:
        async with self._guard:
            # Responses are never decoded (no decode_responses), so values stay bytes.
            value = cast("bytes | None", await self._redis.get(self._values + key))
        self.stats.count_read(value)
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        async with self._guard:
            await self._redis.set(self._values + key, value, px=_milliseconds(ttl_seconds))

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> bool:
        async with self._guard:
            stored = await self._redis.set(
                self._values + key, value, px=_milliseconds(ttl_seconds), nx=True
            )
        return bool(stored)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        async with self._guard:
            removed: int = await self._redis.delete(*(self._values + key for key in keys))
        return removed

    async def cache_put(
        self, key: str, value: bytes, tags: Iterable[str], ttl_seconds: float
    ) -> None:
        ttl_ms = _milliseconds(ttl_seconds)
        tag_keys = [self._tags + tag for tag in unique_tags(tags)]
        async with self._guard:
            if tag_keys:
                await self._cache_put(keys=[self._values + key, *tag_keys], args=[value, ttl_ms])
            else:
                await self._redis.set(self._values + key, value, px=ttl_ms)

    async def invalidate_tags(self, tags: Iterable[str]) -> int:
        return await self._invalidate_tag_keys([self._tags + tag for tag in unique_tags(tags)])

    async def invalidate_all(self) -> int:
        async with self._guard:
            tag_keys = [
                key
                async for key in self._redis.scan_iter(
                    match=_glob_escape(self._tags) + "*", count=1000
                )
            ]
        removed = 0
        for first in range(0, len(tag_keys), _TAG_KEYS_PER_CALL):
            removed += await self._invalidate_tag_keys(tag_keys[first : first + _TAG_KEYS_PER_CALL])
        return removed

    async def hit(self, bucket: str, limit: int, window_seconds: float) -> RateLimitDecision:
        decision, _ = await self._hit(bucket, limit, window_seconds, [], instead=None)
        return decision

    async def hit_and_read(
        self,
        bucket: str,
        limit: int,
        window_seconds: float,
        keys: Sequence[str | Lookup],
        *,
        instead: str | None = None,
    ) -> tuple[RateLimitDecision, list[bytes | None]]:
        decision, values = await self._hit(
            bucket, limit, window_seconds, [as_lookup(key) for key in keys], instead
        )
        for value in values:
            self.stats.count_read(value)
        return decision, values

    async def _hit(
        self,
        bucket: str,
        limit: int,
        window_seconds: float,
        reads: list[Lookup],
        instead: str | None,
    ) -> tuple[RateLimitDecision, list[bytes | None]]:
        """One script call: the GCRA step, and the values of ``reads`` (claimed if asked)."""
        interval_us = gcra.emission_interval_us(limit, window_seconds)
        keys = [self._buckets + bucket, *(self._values + read.key for read in reads)]
        if instead is not None and reads:
            keys.append(self._buckets + instead)
        claims = [_claim_milliseconds(read.claim_ttl_seconds) for read in reads]
        refusing = [int(read.refuses) for read in reads]
        async with self._guard:
            allowed, remaining, reset_us, retry_us, *values = await self._rate_limit(
                keys=keys, args=[limit, interval_us, len(reads), *claims, *refusing]
            )
        decision = gcra.decision(bool(allowed), limit, remaining, reset_us, retry_us)
        # Redis drops trailing nils from the reply: pad to one value per key read.
        return decision, [*values, *([None] * (len(reads) - len(values)))]

    async def ping(self) -> None:
        async with self._guard:
            await self._redis.ping()

    async def check(self) -> None:
        await self.ping()

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _drop_idle_connections(self) -> None:
        # Closing a socket to a dead server may fail; it is closed either way.
        with contextlib.suppress(RedisError, OSError):
            await self._redis.connection_pool.disconnect(inuse_connections=False)

    async def _invalidate_tag_keys(self, tag_keys: list[str] | list[bytes]) -> int:
        if not tag_keys:
            return 0
        async with self._guard:
            removed: int = await self._invalidate(keys=tag_keys)
        return removed


class _OutageGuard:
    """Turns "Redis did not answer" into :class:`StoreUnavailable` and keeps the counters.

    Any Redis or socket error counts: refused or reset connections, timeouts, a replica that
    became read-only, a server out of memory. The store's own keys never hold the wrong type,
    so a protocol error here means Redis cannot serve us, not a bug in the caller.

    After such an error the pool's idle connections are dropped: they point at the same dead or
    restarted server, and handing them out one by one would fail one request after another.
    """

    __slots__ = ("_store",)

    def __init__(self, store: RedisStore) -> None:
        self._store = store

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self._store._healthy = True
            return
        if isinstance(exc, RedisError | OSError):
            self._store._healthy = False
            self._store.stats.errors += 1
            await self._store._drop_idle_connections()
            raise StoreUnavailable(f"redis: {type(exc).__name__}: {exc}") from exc


def _milliseconds(ttl_seconds: float) -> int:
    require_positive_ttl(ttl_seconds)
    return max(1, math.ceil(ttl_seconds * 1000))


def _claim_milliseconds(ttl_seconds: float | None) -> int:
    """A claim's time to live for the script; 0: a plain read."""
    return 0 if ttl_seconds is None else _milliseconds(ttl_seconds)


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis MATCH pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
