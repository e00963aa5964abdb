"""Rate-limit decisions by GCRA (generic cell rate algorithm), in whole microseconds.

GCRA keeps one number per client, the theoretical arrival time (TAT) of its next request. A
client may send ``limit`` requests at once and then one every ``window / limit``; there are no
window boundaries, so the fixed-window flaw (a full budget at the end of one window and another
at the start of the next: 2x ``limit`` in an instant) cannot happen. Over any span of ``d``
seconds at most ``limit + d * limit / window`` requests pass.

The Redis Lua script (:mod:`origin.kv.redis_scripts`) is the same arithmetic; integers keep both
exact and identical.
"""

from __future__ import annotations

import math

from origin.kv.base import RateLimitDecision

MICROSECONDS = 1_000_000


def emission_interval_us(limit: int, window_seconds: float) -> int:
    """Microseconds between requests at the sustained rate, rounded up (never above ``limit``)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit!r}")
    if not window_seconds > 0:
        raise ValueError(f"window_seconds must be positive, got {window_seconds!r}")
    return max(1, math.ceil(window_seconds * MICROSECONDS / limit))


def decide(
    now_us: int, stored_tat_us: int | None, limit: int, interval_us: int
) -> tuple[RateLimitDecision, int | None]:
    """The decision for one request at ``now_us``, and the TAT to store (None: store nothing)."""
    tat = max(stored_tat_us or 0, now_us)
    new_tat = tat + interval_us
    allow_at = new_tat - interval_us * limit
    if now_us < allow_at:
        return decision(False, limit, 0, tat - now_us, allow_at - now_us), None
    remaining = (now_us - allow_at) // interval_us
    return decision(True, limit, remaining, new_tat - now_us, 0), new_tat


def decision(
    allowed: bool, limit: int, remaining: int, reset_after_us: int, retry_after_us: int
) -> RateLimitDecision:
    return RateLimitDecision(
        allowed=allowed,
        limit=limit,
        remaining=remaining,
        reset_after_seconds=reset_after_us / MICROSECONDS,
        retry_after_seconds=retry_after_us / MICROSECONDS,
    )
