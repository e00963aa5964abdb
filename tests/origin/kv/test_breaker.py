"""The circuit breaker: skip a failing dependency for a cool-down, then let one caller probe."""

from __future__ import annotations

import pytest

from origin.kv.breaker import CircuitBreaker

from .manual_clock import ManualClock


def test_a_new_breaker_is_closed_and_needs_no_probe() -> None:
    breaker = CircuitBreaker(1.0, ManualClock())

    assert breaker.closed
    assert not breaker.begin_probe()


def test_after_a_failure_nobody_probes_until_the_cool_down_has_passed() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(2.0, clock)

    breaker.record_failure()
    clock.advance(1.99)

    assert not breaker.closed
    assert not breaker.begin_probe()
    clock.advance(0.01)
    assert breaker.begin_probe()


def test_only_one_caller_probes_at_a_time() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(1.0, clock)
    breaker.record_failure()
    clock.advance(1.0)

    assert breaker.begin_probe()
    assert not breaker.begin_probe()
    assert not breaker.begin_probe(ignore_cooldown=True)


def test_a_successful_probe_closes_the_breaker() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(1.0, clock)
    breaker.record_failure()
    clock.advance(1.0)
    breaker.begin_probe()

    breaker.record_success()

    assert breaker.closed


def test_a_failed_probe_opens_it_for_another_full_cool_down() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(1.0, clock)
    breaker.record_failure()
    clock.advance(1.5)
    breaker.begin_probe()

    breaker.record_failure()
    clock.advance(0.9)

    assert not breaker.begin_probe()
    clock.advance(0.1)
    assert breaker.begin_probe()


def test_a_readiness_check_may_probe_before_the_cool_down_ends() -> None:
    breaker = CircuitBreaker(30.0, ManualClock())
    breaker.record_failure()

    assert not breaker.begin_probe()
    assert breaker.begin_probe(ignore_cooldown=True)


def test_only_the_failure_that_ends_a_healthy_period_starts_an_outage() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(1.0, clock)

    assert breaker.record_failure() is True
    assert breaker.record_failure() is False
    clock.advance(1.0)
    breaker.begin_probe()
    breaker.record_success()
    assert breaker.record_failure() is True


def test_a_cool_down_must_be_positive() -> None:
    with pytest.raises(ValueError, match="cooldown_seconds"):
        CircuitBreaker(0, ManualClock())
