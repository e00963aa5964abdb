"""The live progress display: one line per phase, redrawn in place on a terminal."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from loadtest.bench.plan import PlannedRun


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """Locust's latest line in ``PREFIX_stats_history.csv`` (written every second)."""

    requests_per_second: float
    requests: int
    failures: int


def latest_history(path: Path) -> HistoryPoint | None:
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as stream:
        rows = [row for row in csv.DictReader(stream) if row.get("Name") == "Aggregated"]
    if not rows:
        return None
    last = rows[-1]
    try:
        return HistoryPoint(
            float(last["Requests/s"]),
            int(last["Total Request Count"]),
            int(last["Total Failure Count"]),
        )
    except (KeyError, TypeError, ValueError):
        return None  # a line being written as we read


def round_line(
    runs: Sequence[PlannedRun],
    total_rounds: int,
    elapsed: float,
    duration: float,
    points: Sequence[HistoryPoint | None],
) -> str:
    """``[ 2/5] private    4.2/10 s  direct 24.5 req/s 100 req 0 failed | edge ...``"""
    first = runs[0]
    figures = " | ".join(
        f"{run.target} "
        + (
            "starting"
            if point is None
            else f"{point.requests_per_second:5.1f} req/s {point.requests:5d} req "
            f"{point.failures} failed"
        )
        for run, point in zip(runs, points, strict=True)
    )
    return (
        f"[{first.number:2d}/{total_rounds}] {first.scenario:<9} "
        f"{min(elapsed, duration):5.1f}/{duration:g} s  {figures}"
    )


class Progress:
    def __init__(self, stream: TextIO, live: bool | None = None) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.started = time.monotonic()

    def note(self, text: str) -> None:
        """A finished step, with the time since the bench started."""
        self.stream.write(f"{self._clock()} {text}\n")
        self.stream.flush()

    def update(self, line: str) -> None:
        """Redraw the current phase's line (terminals only; logs get the final line alone)."""
        if self.live:
            self.stream.write(f"\r{self._clock()} {line}\033[K")
            self.stream.flush()

    def finish(self, line: str) -> None:
        if self.live:
            self.stream.write(f"\r{self._clock()} {line}\033[K\n")
        else:
            self.stream.write(f"{self._clock()} {line}\n")
        self.stream.flush()

    def _clock(self) -> str:
        return f"[{time.monotonic() - self.started:6.1f} s]"
