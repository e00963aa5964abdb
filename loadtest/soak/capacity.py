"""Capacity: the highest rate at which the mix's p99, through the edge, stays under a bound.

Short runs at rising rates: doubling from :data:`START_RATE` until a run fails (p99 over the
bound, any unintended error, or the offered rate not achieved), then halving the gap between the
best passing rate and the first failing one :data:`REFINEMENTS` times. The search itself is pure
(:func:`next_rate`); :func:`measure_capacity` runs it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from loadtest.bench.plan import MAX_RATE
from loadtest.report.samples import Sample
from loadtest.report.summary import SETUP_SCENARIO, percentile

START_RATE = 10.0
REFINEMENTS = 2
MIN_ACHIEVED_SHARE = 0.8  # Poisson arrivals wobble; below this the load generator fell behind


@dataclass(frozen=True, slots=True)
class Step:
    rate: float
    duration_s: float
    requests: int
    errors: int
    p99_ms: float | None
    achieved_rate: float

    def passes(self, p99_bound_ms: float) -> bool:
        return (
            self.requests > 0
            and self.errors == 0
            and self.p99_ms is not None
            and self.p99_ms <= p99_bound_ms
            and self.achieved_rate >= MIN_ACHIEVED_SHARE * self.rate
        )


def step_of(rate: float, duration_s: float, samples: Sequence[Sample]) -> Step:
    measured = [s for s in samples if not s.name.startswith(f"{SETUP_SCENARIO}:")]
    ordered = sorted(s.response_time_ms for s in measured)
    return Step(
        rate=rate,
        duration_s=duration_s,
        requests=len(measured),
        errors=sum(not s.ok for s in measured),
        p99_ms=percentile(ordered, 99) if ordered else None,
        achieved_rate=len(measured) / duration_s,
    )


def next_rate(steps: Sequence[Step], p99_bound_ms: float) -> float | None:
    """The next rate to try, or None when the search is over."""
    if not steps:
        return START_RATE
    verdicts = [step.passes(p99_bound_ms) for step in steps]
    if all(verdicts):
        doubled = steps[-1].rate * 2
        return doubled if doubled <= MAX_RATE else None
    first_failure = verdicts.index(False)
    refinements_done = len(steps) - first_failure - 1
    passing = [step.rate for step, ok in zip(steps, verdicts, strict=True) if ok]
    if not passing or refinements_done >= REFINEMENTS:
        return None
    best = max(passing)
    worst = min(step.rate for step, ok in zip(steps, verdicts, strict=True) if not ok)
    return round((best + worst) / 2, 1)


def capacity(steps: Sequence[Step], p99_bound_ms: float) -> float | None:
    """The highest rate that passed; None when none did."""
    passing = [step.rate for step in steps if step.passes(p99_bound_ms)]
    return max(passing) if passing else None


async def measure_capacity(
    run_step: Callable[[float], Awaitable[Step]], p99_bound_ms: float
) -> list[Step]:
    """Run steps as :func:`next_rate` says until it says stop; every step, in order."""
    steps: list[Step] = []
    while (rate := next_rate(steps, p99_bound_ms)) is not None:
        steps.append(await run_step(rate))
    return steps
