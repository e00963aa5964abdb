"""The capacity search: double until the p99 bound breaks, then narrow the gap twice."""

from __future__ import annotations

from loadtest.report.samples import Sample
from loadtest.soak.capacity import START_RATE, Step, capacity, next_rate, step_of

BOUND = 250.0


def step(rate: float, p99: float, errors: int = 0) -> Step:
    return Step(rate, 20.0, int(rate * 20), errors, p99, rate)


def test_the_search_doubles_from_the_start_rate_while_runs_pass() -> None:
    assert next_rate([], BOUND) == START_RATE
    assert next_rate([step(10, 50), step(20, 60)], BOUND) == 40


def test_after_the_first_failure_it_narrows_the_gap_twice_then_stops() -> None:
    steps = [step(10, 50), step(20, 60), step(40, 90), step(80, 400)]
    assert next_rate(steps, BOUND) == 60
    steps.append(step(60, 200))
    assert next_rate(steps, BOUND) == 70
    steps.append(step(70, 300))
    assert next_rate(steps, BOUND) is None
    assert capacity(steps, BOUND) == 60


def test_an_error_or_a_rate_not_achieved_fails_a_step_whatever_its_latency() -> None:
    assert not step(10, 10, errors=1).passes(BOUND)
    assert not Step(40, 20.0, 400, 0, 10, achieved_rate=20).passes(BOUND)


def test_nothing_passing_means_no_capacity_and_no_more_steps() -> None:
    steps = [step(10, 900)]
    assert next_rate(steps, BOUND) is None
    assert capacity(steps, BOUND) is None


def test_a_step_leaves_out_the_users_setup_requests() -> None:
    samples = [Sample("setup: catalog", 5000, True, 200), Sample("mix: me [BYPASS]", 10, True, 200)]

    found = step_of(10, 1.0, samples)

    assert (found.requests, found.p99_ms) == (1, 10)
