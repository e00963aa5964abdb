"""``Server-Timing`` entries for each edge step (``edge-auth;dur=0.08``), ahead of the origin's."""

from __future__ import annotations

from collections.abc import Callable


class StepTimer:
    """Durations of one request's steps, on a monotonic clock, in milliseconds."""

    __slots__ = ("_clock", "_entries", "started")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: list[str] = []
        self.started = clock()

    def now(self) -> float:
        return self._clock()

    def record(self, name: str, since: float, description: str | None = None) -> float:
        """Add ``name`` timed from ``since``; returns the current time (the next step's start)."""
        now = self._clock()
        entry = f"{name};dur={(now - since) * 1000:.2f}"
        if description is not None:
            entry += f';desc="{description}"'
        self._entries.append(entry)
        return now

    def header_value(self, upstream: str | None = None) -> str:
        total = f"edge;dur={(self._clock() - self.started) * 1000:.2f}"
        parts = [total, *self._entries]
        if upstream:
            parts.append(upstream)
        return ", ".join(parts)
