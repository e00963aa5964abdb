"""Read what Locust wrote with ``--csv PREFIX``: request and failure counts, per request name."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

AGGREGATED = "Aggregated"


@dataclass(frozen=True, slots=True)
class NameCounts:
    name: str
    requests: int
    failures: int


@dataclass(frozen=True, slots=True)
class LocustRun:
    """One run's counts as Locust kept them (its latency columns are rounded: see samples.py)."""

    by_name: tuple[NameCounts, ...]
    total_requests: int
    total_failures: int
    failure_messages: tuple[str, ...]
    exceptions: int

    def failures_of(self, name: str) -> int:
        return sum(entry.failures for entry in self.by_name if entry.name == name)


def read_locust_run(prefix: Path) -> LocustRun:
    """Counts from ``PREFIX_stats.csv``, ``PREFIX_failures.csv`` and ``PREFIX_exceptions.csv``."""
    stats_path = prefix.with_name(prefix.name + "_stats.csv")
    if not stats_path.is_file():
        raise FileNotFoundError(f"Locust wrote no statistics at {stats_path}")
    by_name: list[NameCounts] = []
    total = NameCounts(AGGREGATED, 0, 0)
    for row in _rows(stats_path):
        counts = NameCounts(row["Name"], int(row["Request Count"]), int(row["Failure Count"]))
        if counts.name == AGGREGATED:
            total = counts
        else:
            by_name.append(counts)
    messages = tuple(
        f"{row['Method']} {row['Name']}: {row['Error']} (x{row['Occurrences']})"
        for row in _rows(prefix.with_name(prefix.name + "_failures.csv"))
    )
    exceptions = sum(
        int(row["Count"]) for row in _rows(prefix.with_name(prefix.name + "_exceptions.csv"))
    )
    return LocustRun(tuple(by_name), total.requests, total.failures, messages, exceptions)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))
