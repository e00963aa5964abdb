"""When a simulated user starts its next task: Poisson arrivals by default, or Locust's steady pace.

Locust's ``constant_throughput`` starts a user's tasks exactly ``1 / rate`` apart, so every user
keeps the phase it started at. Two runs started together (the bench runs a scenario direct and
through the edge side by side) then send in lock-step, and since the user-to-origin delay is the
same on both paths, each edge request reached the origin just behind a direct one and waited for
it: ``place`` measured +15 ms through the edge that way, +1.6 ms with Poisson arrivals.

Independent users do not coordinate, which is what Poisson arrivals model: gaps drawn from an
exponential distribution with mean ``1 / rate``, so both paths meet the origin's queue alike.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

ARRIVALS = ("poisson", "steady")
"""The ``--arrivals`` choices; ``steady`` is Locust's ``constant_throughput``."""

Clock = Callable[[], float]


class PoissonPace:
    """A user's task starts as a Poisson process of ``rate`` per second.

    Each gap is drawn at random and counted from the previous start, so a task's own duration
    does not lower the rate. A task that overruns its gap is followed at once, and the schedule
    goes on from then: a user that fell behind does not fire a burst to catch up (nor does
    ``constant_throughput``).
    """

    def __init__(
        self, rate: float, clock: Clock = time.monotonic, rng: random.Random | None = None
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        self._clock = clock
        self._rng = rng or random.Random()
        self._last_start = clock()

    def __call__(self, user: Any = None) -> float:
        """Seconds to wait before the next task (Locust's ``wait_time`` contract)."""
        now = self._clock()
        self._last_start = max(self._last_start + self._rng.expovariate(self._rate), now)
        return self._last_start - now
