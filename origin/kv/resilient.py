"""Graceful degradation: a Redis outage costs no timeouts and fails no cache read or rate limit.

While the backend fails, :class:`ResilientStore` answers by itself:

- reads (``get``) miss and cache writes (``cache_put``) are dropped: the caller recomputes, as
  on any cache miss;
- ``invalidate_tags`` is remembered and replayed before the cache is read again, so no entry
  invalidated during the outage is served afterwards (past ``max_pending_tags``, every tagged
  entry is dropped instead);
- ``hit`` (rate limiting) fails open: the request is allowed, with one warning per outage;
- ``add``, ``set`` and ``delete`` raise :class:`StoreUnavailable`: an idempotency lock, a nonce
  check or a token revocation cannot be faked or silently lost, so the caller falls back (to
  the database) or answers 503.

A caller for whom a missing value must not mean "absent" (a revocation list) checks
``healthy`` or reads its fallback when ``get`` returns None during an outage.

After a failure a circuit breaker skips the backend for ``cooldown_seconds``; then one request
probes it (PING, replay, then its own operation) and the store recovers by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from origin.kv.base import (
    Lookup,
    RateLimitDecision,
    Store,
    StoreStats,
    StoreUnavailable,
    unique_tags,
)
from origin.kv.breaker import CircuitBreaker

logger = logging.getLogger("outpost.origin.kv")


class CircuitOpen(StoreUnavailable):
    """The backend was not asked: it failed recently and its cool-down has not passed."""


class ResilientStore:
    def __init__(
        self,
        inner: Store,
        *,
        cooldown_seconds: float = 1.0,
        max_pending_tags: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.stats = StoreStats()
        self._breaker = CircuitBreaker(cooldown_seconds, clock)
        self._max_pending_tags = max_pending_tags
        self._pending_tags: set[str] = set()
        self._pending_overflowed = False
        self._warned_fail_open = False

    @property
    def healthy(self) -> bool:
        return self._breaker.closed

    async def get(self, key: str) -> bytes | None:
        try:
            await self._ensure_available()
            value = await self.inner.get(key)
        except StoreUnavailable as error:
            self._degrade(error)
            value = None
        self.stats.count_read(value)
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        try:
            await self._ensure_available()
            await self.inner.set(key, value, ttl_seconds)
        except StoreUnavailable as error:
            self._degrade(error)
            raise

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> bool:
        try:
            await self._ensure_available()
            return await self.inner.add(key, value, ttl_seconds)
        except StoreUnavailable as error:
            self._degrade(error)
            raise

    async def delete(self, *keys: str) -> int:
        try:
            await self._ensure_available()
            return await self.inner.delete(*keys)
        except StoreUnavailable as error:
            self._degrade(error)
            raise

    async def cache_put(
        self, key: str, value: bytes, tags: Iterable[str], ttl_seconds: float
    ) -> None:
        try:
            await self._ensure_available()
            await self.inner.cache_put(key, value, tags, ttl_seconds)
        except StoreUnavailable as error:
            self._degrade(error)

    async def invalidate_tags(self, tags: Iterable[str]) -> int:
        tags = unique_tags(tags)
        try:
            await self._ensure_available()
            return await self.inner.invalidate_tags(tags)
        except StoreUnavailable as error:
            self._degrade(error)
            self._remember_invalidation(tags)
            return 0

    async def invalidate_all(self) -> int:
        try:
            await self._ensure_available()
            return await self.inner.invalidate_all()
        except StoreUnavailable as error:
            self._degrade(error)
            self._pending_overflowed = True
            return 0

    async def hit(self, bucket: str, limit: int, window_seconds: float) -> RateLimitDecision:
        try:
            await self._ensure_available()
            return await self.inner.hit(bucket, limit, window_seconds)
        except StoreUnavailable as error:
            return self._failed_open(error, limit)

    async def hit_and_read(
        self,
        bucket: str,
        limit: int,
        window_seconds: float,
        keys: Sequence[str | Lookup],
        *,
        instead: str | None = None,
    ) -> tuple[RateLimitDecision, list[bytes | None]]:
        """Unavailable: the request passes, nothing was read and nothing claimed (``healthy``
        then says so, so a caller that must not take "nothing" for an answer, or for a claim
        taken, asks elsewhere)."""
        try:
            await self._ensure_available()
            decision, values = await self.inner.hit_and_read(
                bucket, limit, window_seconds, keys, instead=instead
            )
        except StoreUnavailable as error:
            decision, values = self._failed_open(error, limit), [None] * len(keys)
        for value in values:
            self.stats.count_read(value)
        return decision, values

    async def ping(self) -> None:
        try:
            await self._ensure_available()
            await self.inner.ping()
        except StoreUnavailable as error:
            self._degrade(error)
            raise

    async def check(self) -> None:
        """Ping the backend even during a cool-down: readiness probes double as recovery."""
        if self._breaker.closed:
            await self.ping()
        else:
            await self._probe(ignore_cooldown=True)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def _ensure_available(self) -> None:
        if not self._breaker.closed:
            await self._probe(ignore_cooldown=False)

    async def _probe(self, *, ignore_cooldown: bool) -> None:
        """Close the breaker if the backend answers and the missed invalidations are replayed."""
        if not self._breaker.begin_probe(ignore_cooldown=ignore_cooldown):
            raise CircuitOpen("redis is unavailable; skipped until its cool-down ends")
        try:
            await self.inner.ping()
            await self._replay_missed_invalidations()
        except StoreUnavailable as error:
            self.stats.errors += 1
            self._breaker.record_failure()
            raise CircuitOpen(f"redis is still unavailable: {error}") from error
        except BaseException:
            self._breaker.record_failure()
            raise
        # No await between the replay's last check and here: nothing can slip in unreplayed.
        self._breaker.record_success()
        self._warned_fail_open = False
        logger.info("redis answers again; cache and shared rate limits are back")

    async def _replay_missed_invalidations(self) -> None:
        # Loops because requests skipped during the replay may add more.
        while self._pending_tags or self._pending_overflowed:
            tags, overflowed = self._pending_tags, self._pending_overflowed
            self._pending_tags, self._pending_overflowed = set(), False
            try:
                if overflowed:
                    await self.inner.invalidate_all()
                else:
                    await self.inner.invalidate_tags(tags)
            except BaseException:
                self._pending_overflowed |= overflowed
                self._remember_invalidation(tags)
                raise

    def _degrade(self, error: StoreUnavailable) -> None:
        self.stats.degraded += 1
        if isinstance(error, CircuitOpen):
            return
        self.stats.errors += 1
        if self._breaker.record_failure():
            logger.warning(
                "redis is unavailable (%s); bypassing the cache for at least %.1f s",
                error,
                self._breaker.cooldown_seconds,
            )

    def _remember_invalidation(self, tags: Iterable[str]) -> None:
        if self._pending_overflowed:
            return
        self._pending_tags.update(tags)
        if len(self._pending_tags) > self._max_pending_tags:
            self._pending_tags.clear()
            self._pending_overflowed = True

    def _failed_open(self, error: StoreUnavailable, limit: int) -> RateLimitDecision:
        """The decision while Redis is down: let the request through (see the module's doc)."""
        self._degrade(error)
        self._warn_fail_open_once()
        return RateLimitDecision(
            allowed=True,
            limit=limit,
            remaining=limit,
            reset_after_seconds=0.0,
            retry_after_seconds=0.0,
        )

    def _warn_fail_open_once(self) -> None:
        if not self._warned_fail_open:
            self._warned_fail_open = True
            logger.warning("redis is unavailable; rate limits fail open until it answers again")
