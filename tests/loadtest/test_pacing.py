"""A user's Poisson pace: random gaps with mean 1/rate, each counted from the previous start."""

from __future__ import annotations

import random
import statistics

import pytest

from loadtest.pacing import PoissonPace


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_gaps_average_one_over_the_rate_and_vary_like_an_exponential() -> None:
    clock = ManualClock()
    pace = PoissonPace(4.0, clock, random.Random(7))
    gaps = []
    for _ in range(20_000):
        gap = pace()
        gaps.append(gap)
        clock.now += gap  # the task itself takes no time
    assert statistics.fmean(gaps) == pytest.approx(0.25, rel=0.03)
    # An exponential's standard deviation equals its mean; a steady pace's is zero.
    assert statistics.pstdev(gaps) == pytest.approx(0.25, rel=0.05)


def test_a_task_s_own_duration_is_taken_out_of_the_gap() -> None:
    clock = ManualClock()
    drawn = random.Random(3)
    pace = PoissonPace(2.0, clock, random.Random(3))
    gap = drawn.expovariate(2.0)
    clock.now += gap / 2  # the task took half of its gap
    assert pace() == pytest.approx(gap / 2)


def test_a_user_that_fell_behind_starts_at_once_and_does_not_burst_to_catch_up() -> None:
    clock = ManualClock()
    pace = PoissonPace(10.0, clock, random.Random(1))
    clock.now += 60.0  # one task took a minute: hundreds of gaps overran
    assert pace() == 0.0
    assert pace() > 0.0  # the next gap is counted from now, not from the missed schedule


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        PoissonPace(0.0)
