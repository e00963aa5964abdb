"""The key-value port the origin talks to, and the value types every implementation shares.

One small interface serves the response cache (``get``/``cache_put``/``invalidate_tags``), rate
limits (``hit``), idempotency keys, token revocation and nonce replay checks (``add``, ``set``,
``get``, ``delete``). :class:`~origin.kv.memory_store.MemoryStore` implements it in one process,
:class:`~origin.kv.redis_store.RedisStore` on Redis, and
:class:`~origin.kv.resilient.ResilientStore` keeps a Redis outage from failing requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


class StoreUnavailable(Exception):
    """The backing service did not answer; the caller should fall back (e.g. to the database)."""


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    """The outcome of spending one request from a client's budget.

    ``remaining`` is how many more requests would be allowed right now, ``reset_after_seconds``
    how long until the full budget is back, ``retry_after_seconds`` how long a denied client
    must wait before its next request can be allowed (0 when allowed).
    """

    allowed: bool
    limit: int
    remaining: int
    reset_after_seconds: float
    retry_after_seconds: float


CLAIMED = b"1"
"""What a :class:`Lookup` with a claim writes under a key that held nothing."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """One key read by the combined call, :meth:`Store.hit_and_read`.

    With ``claim_ttl_seconds``, the key is also claimed: set to :data:`CLAIMED` for that long if
    it held nothing (a write-if-absent, as ``add`` does). The value read is what it held before,
    so None means this call claimed it (a nonce's first use). With ``refuses``, a value found
    here refuses the caller, who then spends the call's ``instead`` bucket.
    """

    key: str
    claim_ttl_seconds: float | None = None
    refuses: bool = False


def as_lookup(key: str | Lookup) -> Lookup:
    """A plain key is a plain read."""
    return key if isinstance(key, Lookup) else Lookup(key)


@dataclass(slots=True)
class StoreStats:
    """Counters a metrics endpoint reads; they only ever grow."""

    hits: int = 0
    """``get`` found a value."""
    misses: int = 0
    """``get`` found nothing (including reads answered without the backend during an outage)."""
    errors: int = 0
    """Calls to the backend that failed."""
    degraded: int = 0
    """Operations answered without the backend (cache bypassed, rate limit failed open)."""

    def count_read(self, value: bytes | None) -> None:
        if value is None:
            self.misses += 1
        else:
            self.hits += 1


class Store(Protocol):
    """Async key-value operations with expiry; every key lives under the store's own prefix."""

    stats: StoreStats

    @property
    def healthy(self) -> bool:
        """Whether the last contact with the backend succeeded (always true in memory)."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The value stored under ``key`` (by ``set``, ``add`` or ``cache_put``), or None."""
        ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store ``value`` under ``key`` for ``ttl_seconds``, replacing what was there."""
        ...

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> bool:
        """Store ``value`` only if ``key`` holds nothing; True when this call stored it."""
        ...

    async def delete(self, *keys: str) -> int:
        """Remove ``keys``; the number that existed."""
        ...

    async def cache_put(
        self, key: str, value: bytes, tags: Iterable[str], ttl_seconds: float
    ) -> None:
        """Store a cached value (read back with ``get``) that ``invalidate_tags`` can remove."""
        ...

    async def invalidate_tags(self, tags: Iterable[str]) -> int:
        """Remove every cached value stored under any of ``tags``; the number removed."""
        ...

    async def invalidate_all(self) -> int:
        """Remove every cached value stored under any tag; the number removed."""
        ...

    async def hit(self, bucket: str, limit: int, window_seconds: float) -> RateLimitDecision:
        """Spend one request from ``bucket``, which allows ``limit`` per ``window_seconds``."""
        ...

    async def hit_and_read(
        self,
        bucket: str,
        limit: int,
        window_seconds: float,
        keys: Sequence[str | Lookup],
        *,
        instead: str | None = None,
    ) -> tuple[RateLimitDecision, list[bytes | None]]:
        """``hit`` and a read (and claim, see :class:`Lookup`) of each of ``keys``, in one round
        trip where the backend allows, atomically: a claim is never taken twice.

        With ``instead``, that bucket is spent instead of ``bucket`` when a refusing lookup finds
        a value (a caller whose session turns out revoked, or whose assertion is replayed,
        spends its address's budget, as any refused credential does)."""
        ...

    async def ping(self) -> None:
        """Return when the backend answers; raise :class:`StoreUnavailable` otherwise."""
        ...

    async def check(self) -> None:
        """Readiness: like ``ping``, and lets a degraded store notice that its backend is back."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


def require_positive_ttl(ttl_seconds: float) -> None:
    if not ttl_seconds > 0:
        raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds!r}")


def unique_tags(tags: Iterable[str]) -> list[str]:
    """Tags in first-seen order without repeats (a tag set is touched once per call)."""
    return list(dict.fromkeys(tags))
