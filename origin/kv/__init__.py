"""The origin's key-value store: Redis when configured, an in-process store otherwise.

``open_store`` is the one place that chooses. Callers see the :class:`Store` port only.
"""

from __future__ import annotations

from origin.kv.base import Lookup, RateLimitDecision, Store, StoreStats, StoreUnavailable
from origin.kv.memory_store import MemoryStore
from origin.kv.redis_store import RedisStore
from origin.kv.resilient import ResilientStore

__all__ = [
    "Lookup",
    "MemoryStore",
    "RateLimitDecision",
    "RedisStore",
    "ResilientStore",
    "Store",
    "StoreStats",
    "StoreUnavailable",
    "open_store",
]


def open_store(
    redis_url: str | None,
    *,
    prefix: str,
    timeout_seconds: float = 0.25,
    connect_timeout_seconds: float = 0.25,
    cooldown_seconds: float = 1.0,
) -> Store:
    """Redis behind the degradation wrapper when ``redis_url`` is set, else one process's memory.

    Nothing connects here: a Redis that is down at start-up is one that is down at run time,
    and the origin starts degraded rather than not at all. The timeouts bound what one request
    can lose to a dead Redis; ``cooldown_seconds`` is how long the store then stops asking it.
    """
    if redis_url is None:
        return MemoryStore()
    redis_store = RedisStore(
        redis_url,
        prefix=prefix,
        timeout_seconds=timeout_seconds,
        connect_timeout_seconds=connect_timeout_seconds,
    )
    return ResilientStore(redis_store, cooldown_seconds=cooldown_seconds)
