"""Controllable implementations of the edge's clock and randomness ports, for unit tests."""

from __future__ import annotations

import secrets


class SteppedClock:
    """Wall and monotonic time that move only when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.wall = start
        self.mono = 0.0

    def now(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


class Random:
    def token(self, nbytes: int) -> str:
        return secrets.token_urlsafe(nbytes)

    def hex(self, nbytes: int) -> str:
        return secrets.token_hex(nbytes)
