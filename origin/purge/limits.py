"""Cloudflare's purge limits per plan, and the dispatcher's own budget that keeps within them.

Cloudflare limits purge requests per account with a token bucket: a sustained rate and a bucket
that allows short bursts, and caps the operations (tags, URLs, ...) in one request
(https://developers.cloudflare.com/cache/how-to/purge-cache/#purge-limits, read 2026-12):

| plan | requests | bucket | operations per request |
| --- | --- | --- | --- |
| Free | 5 per minute | 25 | 100 |
| Pro | 5 per second | 25 | 100 |
| Business | 10 per second | 50 | 100 |
| Enterprise | 50 per second | 500 | 100 |

A token bucket is what GCRA computes (:mod:`origin.kv.gcra`: ``limit`` is the bucket, the
emission interval the time one token takes to come back), so the budget reuses it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from origin.kv.gcra import MICROSECONDS, decide


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """How many purge requests a plan allows, in what bursts, with how many operations each."""

    requests_per_second: float
    bucket: int
    operations_per_request: int

    def __post_init__(self) -> None:
        if not self.requests_per_second > 0:
            raise ValueError("requests_per_second must be positive")
        if self.bucket < 1 or self.operations_per_request < 1:
            raise ValueError("bucket and operations_per_request must be at least 1")

    @property
    def requests_per_minute(self) -> float:
        return self.requests_per_second * 60


PLANS: dict[str, PlanLimits] = {
    "free": PlanLimits(requests_per_second=5 / 60, bucket=25, operations_per_request=100),
    "pro": PlanLimits(requests_per_second=5, bucket=25, operations_per_request=100),
    "business": PlanLimits(requests_per_second=10, bucket=50, operations_per_request=100),
    "enterprise": PlanLimits(requests_per_second=50, bucket=500, operations_per_request=100),
}
DEFAULT_PLAN = "free"


class RequestBudget:
    """This dispatcher's share of the plan's bucket: when the next request may go out.

    It starts full, as Cloudflare's bucket is for an account that has not purged for a while.
    A ``429`` says Cloudflare's bucket is emptier than ours (another dispatcher or tool spends
    the same account's budget): :meth:`hold_until` stops every request until its
    ``Retry-After`` has passed.
    """

    def __init__(self, limits: PlanLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._interval_us = max(1, math.ceil(MICROSECONDS / limits.requests_per_second))
        self._tat_us: int | None = None
        self._held_until = 0.0

    def wait_seconds(self) -> float:
        """How long to wait before a request would be within budget (0: send now)."""
        now = self._clock()
        held = max(0.0, self._held_until - now)
        limit, interval = self._limits.bucket, self._interval_us
        decision, _ = decide(self._now_us(now), self._tat_us, limit, interval)
        return max(held, decision.retry_after_seconds)

    def spend(self) -> None:
        """Count one request as sent (call it when sending, after :meth:`wait_seconds` is 0)."""
        now_us = self._now_us(self._clock())
        _, new_tat = decide(now_us, self._tat_us, self._limits.bucket, self._interval_us)
        # Sent although over budget (a caller that did not wait): it still used a token.
        self._tat_us = (
            new_tat if new_tat is not None else max(self._tat_us or 0, now_us) + (self._interval_us)
        )

    def hold_until(self, seconds_from_now: float) -> None:
        """Send nothing for ``seconds_from_now`` (Cloudflare's ``Retry-After``)."""
        self._held_until = max(self._held_until, self._clock() + seconds_from_now)

    @staticmethod
    def _now_us(now: float) -> int:
        return int(now * MICROSECONDS)
