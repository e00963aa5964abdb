"""Each process's resident memory and open file descriptors, sampled over a soak (psutil).

A process is counted with its children (a server that forks workers is one service), and one
that has exited is skipped rather than failing the soak: its absence shows in the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import time
from collections.abc import Mapping
from pathlib import Path

import psutil

from loadtest.soak.analysis import ResourceSample

COLUMNS = ("process", "elapsed_s", "rss_bytes", "open_fds")


def measure(pid: int) -> tuple[int, int] | None:
    """(RSS bytes, open fds) of ``pid`` and its children; None when it is gone."""
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    rss = fds = 0
    for process in family:
        with contextlib.suppress(psutil.Error):
            rss += process.memory_info().rss
            fds += process.num_fds()
    return rss, fds


class ResourceSampler:
    """Appends a row per process every ``interval_s`` to a CSV file until stopped."""

    def __init__(
        self, processes: Mapping[str, int], path: Path, interval_s: float, started_at: float
    ) -> None:
        self.processes = dict(processes)
        self.path = path
        self.interval_s = interval_s
        self.started_at = started_at

    def sample(self) -> list[ResourceSample]:
        elapsed = time.monotonic() - self.started_at
        found = []
        for name, pid in self.processes.items():
            measured = measure(pid)
            if measured is not None:
                found.append(ResourceSample(name, elapsed, *measured))
        return found

    async def run(self, stop: asyncio.Event) -> None:
        with self.path.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(COLUMNS)
            while True:
                for item in await asyncio.to_thread(self.sample):
                    writer.writerow(
                        (item.process, f"{item.elapsed_s:.3f}", item.rss_bytes, item.open_fds)
                    )
                stream.flush()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval_s)
                if stop.is_set():
                    return


def read_resources(path: Path) -> list[ResourceSample]:
    with path.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    return [
        ResourceSample(
            row["process"], float(row["elapsed_s"]), int(row["rss_bytes"]), int(row["open_fds"])
        )
        for row in rows
    ]
