"""The directory several origin workers share their metrics through, owned by their supervisor.

``prometheus_client``'s multiprocess mode: each worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` merges them (see
:mod:`origin.observability.metrics`). The directory must be fresh when the workers start (old
files would be counted again) and holds nothing worth keeping once they have stopped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from origin.observability.metrics import MULTIPROCESS_DIR_VARIABLE


@contextmanager
def shared_metrics_directory() -> Iterator[str]:
    """A new, empty directory named in ``PROMETHEUS_MULTIPROC_DIR`` for the workers started
    inside the block (they inherit the environment); removed, and the variable restored, after.
    """
    previous = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    directory = tempfile.mkdtemp(prefix="outpost-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR_VARIABLE, None)
        else:
            os.environ[MULTIPROCESS_DIR_VARIABLE] = previous
        shutil.rmtree(directory, ignore_errors=True)


def worker_exited(directory: str, pid: int | None) -> None:
    """Drop an exited worker's live gauges (connections in use...); its counters stay counted."""
    from prometheus_client import multiprocess

    if pid is not None:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
