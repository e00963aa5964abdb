"""A circuit breaker: after a failure, stop calling a dependency for a cool-down, then probe.

Closed: calls go through. Open: calls are skipped until ``cooldown_seconds`` after the last
failure; then exactly one caller probes (half-open) while the others keep being skipped, so a
dead dependency costs one timeout per cool-down rather than one per request. Pure state: the
clock is a parameter and the owner does the I/O.
"""

from __future__ import annotations

from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, cooldown_seconds: float, clock: Callable[[], float]) -> None:
        if not cooldown_seconds > 0:
            raise ValueError(f"cooldown_seconds must be positive, got {cooldown_seconds!r}")
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._closed = True
        self._probing = False
        self._retry_at = 0.0

    @property
    def closed(self) -> bool:
        return self._closed

    def begin_probe(self, *, ignore_cooldown: bool = False) -> bool:
        """Whether this caller may try the dependency now; if so it must report the outcome."""
        if self._closed or self._probing:
            return False
        if not ignore_cooldown and self._clock() < self._retry_at:
            return False
        self._probing = True
        return True

    def record_success(self) -> None:
        self._closed = True
        self._probing = False

    def record_failure(self) -> bool:
        """Open (again) for a cool-down; True when this failure ended a healthy period."""
        was_closed = self._closed
        self._closed = False
        self._probing = False
        self._retry_at = self._clock() + self.cooldown_seconds
        return was_closed
