"""Write every request's exact latency (``--exact-latencies FILE``), also in distributed runs.

Standalone, the process writes as requests complete. In a distributed run the workers ship
their samples with the reports they send the master anyway (``report_to_master``), and the
master writes them (``worker_report``), so the file is complete wherever the workers ran.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from loadtest.report.samples import Sample, SampleRow, SampleWriter

REPORT_KEY = "outpost_exact_latencies"


def status_of(response: Any) -> int:
    status = getattr(response, "status_code", 0)
    return status if isinstance(status, int) else 0


def sample_row(
    name: str, response_time: float, response: Any, exception: BaseException | None
) -> SampleRow:
    ok = exception is None
    return Sample(name, float(response_time), ok, status_of(response), time.time()).as_row()


class WorkerBuffer:
    """A worker's samples since its last report to the master."""

    def __init__(self) -> None:
        self.rows: list[SampleRow] = []

    def on_request(
        self,
        name: str,
        response_time: float,
        response: Any = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        self.rows.append(sample_row(name, response_time, response, exception))

    def on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        data[REPORT_KEY], self.rows = self.rows, []


class FileRecorder:
    """The standalone or master process: samples go to the CSV file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._stream = path.open("w", newline="", encoding="utf-8")
        self._writer = SampleWriter(self._stream)

    def on_request(
        self,
        name: str,
        response_time: float,
        response: Any = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        self._writer.write((sample_row(name, response_time, response, exception),))

    def on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        rows = data.get(REPORT_KEY)
        if rows:
            self._writer.write(tuple(row) for row in rows)

    def on_test_stop(self, **_: Any) -> None:
        self._writer.flush()

    def close(self, **_: Any) -> None:
        self._stream.close()


def install(environment: Any) -> None:
    """Hook the recorder into a Locust environment (from the ``init`` event)."""
    from locust.runners import WorkerRunner

    events = environment.events
    if isinstance(environment.runner, WorkerRunner):
        buffer = WorkerBuffer()
        events.request.add_listener(buffer.on_request)
        events.report_to_master.add_listener(buffer.on_report_to_master)
        return
    options = environment.parsed_options
    target = getattr(options, "exact_latencies", "") if options is not None else ""
    if not target:
        return
    recorder = FileRecorder(Path(target))
    events.request.add_listener(recorder.on_request)
    events.worker_report.add_listener(recorder.on_worker_report)
    events.test_stop.add_listener(recorder.on_test_stop)
    events.quit.add_listener(recorder.close)
