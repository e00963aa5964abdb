"""Exact per-request latencies, one CSV row per request.

Locust keeps response times in a histogram rounded to whole milliseconds under 100 ms and to
10 ms from 100 ms to 1 s, which is coarser than the 5 ms the bench's checks compare; its
request event carries the exact float, so the load test writes every one down here as well.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

COLUMNS = ("name", "response_time_ms", "ok", "status", "finished_at")
LEGACY_COLUMNS = COLUMNS[:4]  # files written before finished_at was recorded
SampleRow = tuple[str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    response_time_ms: float
    ok: bool
    status: int  # 0 when no HTTP response arrived (connection error, timeout)
    finished_at: float = 0.0  # Unix time the answer (or failure) came: a soak's minute-by-minute

    def as_row(self) -> SampleRow:
        ok = "1" if self.ok else "0"
        return (
            self.name,
            f"{self.response_time_ms:.3f}",
            ok,
            str(self.status),
            f"{self.finished_at:.3f}",
        )

    @classmethod
    def from_row(cls, row: list[str]) -> Sample:
        name, response_time, ok, status, *finished = row
        at = float(finished[0]) if finished else 0.0
        return cls(name, float(response_time), ok == "1", int(status), at)


class SampleWriter:
    """Appends samples to an open text file, header first."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(COLUMNS)

    def write(self, rows: Iterable[SampleRow]) -> None:
        self._writer.writerows(rows)

    def flush(self) -> None:
        self._stream.flush()


def read_samples(path: Path) -> list[Sample]:
    return list(iter_samples(path))


def iter_samples(path: Path) -> Iterator[Sample]:
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            return
        if tuple(header) not in (COLUMNS, LEGACY_COLUMNS):
            raise ValueError(f"{path}: expected columns {', '.join(COLUMNS)}, got {header}")
        for row in reader:
            yield Sample.from_row(row)
