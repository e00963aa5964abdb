"""GCRA decisions: the arithmetic both the memory store and the Redis script follow."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.kv import gcra

SECOND_US = 1_000_000


def run(times_us: list[int], limit: int, interval_us: int) -> list[bool]:
    """Feed request times through decide(), keeping the stored TAT like a store would."""
    tat: int | None = None
    allowed = []
    for now in times_us:
        decision, new_tat = gcra.decide(now, tat, limit, interval_us)
        if new_tat is not None:
            tat = new_tat
        allowed.append(decision.allowed)
    return allowed


def test_the_emission_interval_is_the_window_shared_by_the_limit_rounded_up() -> None:
    assert gcra.emission_interval_us(10, 1.0) == 100_000
    assert gcra.emission_interval_us(3, 1.0) == 333_334
    assert gcra.emission_interval_us(10**9, 1.0) == 1


def test_a_fresh_bucket_allows_a_full_burst_then_one_request_per_interval() -> None:
    at_once = [5 * SECOND_US] * 6
    later = [5 * SECOND_US + 200_000, 5 * SECOND_US + 200_001, 5 * SECOND_US + 400_000]

    assert run(at_once + later, limit=5, interval_us=200_000) == [True] * 5 + [
        False,
        True,
        False,
        True,
    ]


def test_a_denial_says_exactly_when_the_next_request_is_allowed() -> None:
    tat = None
    for _ in range(4):
        _, tat = gcra.decide(0, tat, 4, 250_000)
    denied, stored = gcra.decide(100_000, tat, 4, 250_000)

    assert stored is None
    assert denied.retry_after_seconds == 0.15
    assert denied.reset_after_seconds == 0.9
    assert gcra.decide(250_000, tat, 4, 250_000)[0].allowed


@pytest.mark.parametrize(("limit", "window"), [(0, 1.0), (1, 0.0), (1, -2.0)])
def test_limits_and_windows_that_cannot_work_are_refused(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        gcra.emission_interval_us(limit, window)


@given(
    limit=st.integers(min_value=1, max_value=20),
    interval_us=st.integers(min_value=1, max_value=1_000),
    gaps=st.lists(st.integers(min_value=0, max_value=3_000), min_size=1, max_size=120),
)
def test_no_span_ever_lets_through_more_than_a_burst_plus_the_sustained_rate(
    limit: int, interval_us: int, gaps: list[int]
) -> None:
    times = []
    now = 0
    for gap in gaps:
        now += gap
        times.append(now)
    passed = [
        t for t, allowed in zip(times, run(times, limit, interval_us), strict=True) if allowed
    ]

    for first in range(len(passed)):
        for last in range(first, len(passed)):
            span = passed[last] - passed[first]
            assert last - first + 1 <= limit + span // interval_us


@given(
    limit=st.integers(min_value=1, max_value=20),
    interval_us=st.integers(min_value=1, max_value=1_000),
    gaps=st.lists(st.integers(min_value=0, max_value=3_000), min_size=1, max_size=60),
)
def test_a_client_waiting_retry_after_is_always_allowed(
    limit: int, interval_us: int, gaps: list[int]
) -> None:
    tat: int | None = None
    now = 0
    for gap in gaps:
        now += gap
        decision, new_tat = gcra.decide(now, tat, limit, interval_us)
        if new_tat is not None:
            tat = new_tat
            continue
        retry_at = now + round(decision.retry_after_seconds * SECOND_US)
        assert gcra.decide(retry_at, tat, limit, interval_us)[0].allowed
        assert not gcra.decide(retry_at - 1, tat, limit, interval_us)[0].allowed
