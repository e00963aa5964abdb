"""The store for one process: used when ``REDIS_URL`` is unset (development, single worker).

Same semantics as :class:`~origin.kv.redis_store.RedisStore`, bounded in size. Rate-limit
buckets have their own capacity so that a flood of cached responses cannot evict them and hand
clients a fresh budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from origin.kv import gcra
from origin.kv.base import (
    CLAIMED,
    Lookup,
    RateLimitDecision,
    StoreStats,
    as_lookup,
    require_positive_ttl,
    unique_tags,
)
from origin.kv.lru import LruTtlMap


@dataclass(frozen=True, slots=True)
class _Entry:
    value: bytes
    tags: tuple[str, ...] = ()


class MemoryStore:
    def __init__(
        self,
        *,
        max_keys: int = 10_000,
        max_buckets: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stats = StoreStats()
        self._clock = clock
        self._entries: LruTtlMap[_Entry] = LruTtlMap(max_keys, on_remove=self._unindex)
        self._buckets: LruTtlMap[int] = LruTtlMap(max_buckets)
        self._keys_by_tag: dict[str, set[str]] = {}

    @property
    def healthy(self) -> bool:
        return True

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key, self._clock())
        value = None if entry is None else entry.value
        self.stats.count_read(value)
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        require_positive_ttl(ttl_seconds)
        self._entries.put(key, _Entry(value), self._clock() + ttl_seconds)

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> bool:
        require_positive_ttl(ttl_seconds)
        now = self._clock()
        if self._entries.get(key, now) is not None:
            return False
        self._entries.put(key, _Entry(value), now + ttl_seconds)
        return True

    async def delete(self, *keys: str) -> int:
        now = self._clock()
        removed = 0
        for key in keys:
            # An expired entry does not count as deleted (Redis would not have it either).
            if self._entries.get(key, now) is not None:
                self._entries.pop(key)
                removed += 1
        return removed

    async def cache_put(
        self, key: str, value: bytes, tags: Iterable[str], ttl_seconds: float
    ) -> None:
        require_positive_ttl(ttl_seconds)
        entry = _Entry(value, tuple(unique_tags(tags)))
        self._entries.put(key, entry, self._clock() + ttl_seconds)
        for tag in entry.tags:
            self._keys_by_tag.setdefault(tag, set()).add(key)

    async def invalidate_tags(self, tags: Iterable[str]) -> int:
        now = self._clock()
        removed = 0
        for tag in unique_tags(tags):
            for key in list(self._keys_by_tag.get(tag, ())):
                if self._entries.get(key, now) is not None:
                    self._entries.pop(key)
                    removed += 1
        return removed

    async def invalidate_all(self) -> int:
        return await self.invalidate_tags(list(self._keys_by_tag))

    async def hit(self, bucket: str, limit: int, window_seconds: float) -> RateLimitDecision:
        interval_us = gcra.emission_interval_us(limit, window_seconds)
        now = self._clock()
        now_us = round(now * gcra.MICROSECONDS)
        stored_tat_us = self._buckets.get(bucket, now)
        decision, new_tat_us = gcra.decide(now_us, stored_tat_us, limit, interval_us)
        if new_tat_us is not None:
            expires_at = now + (new_tat_us - now_us) / gcra.MICROSECONDS
            self._buckets.put(bucket, new_tat_us, expires_at)
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
        lookups = [as_lookup(key) for key in keys]
        values = []
        # No await that yields in between: the reads, claims and hit are one step, as in Redis.
        for lookup in lookups:
            value = await self.get(lookup.key)
            if value is None and lookup.claim_ttl_seconds is not None:
                await self.add(lookup.key, CLAIMED, lookup.claim_ttl_seconds)
            values.append(value)
        refused = any(
            lookup.refuses and value is not None
            for lookup, value in zip(lookups, values, strict=True)
        )
        if instead is not None and refused:
            bucket = instead
        return await self.hit(bucket, limit, window_seconds), values

    async def ping(self) -> None:
        return None

    async def check(self) -> None:
        return None

    async def aclose(self) -> None:
        self._entries.clear()
        self._buckets.clear()

    def _unindex(self, key: str, entry: _Entry) -> None:
        for tag in entry.tags:
            keys = self._keys_by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_by_tag[tag]
