"""Several Hypercorn worker processes that all finish their in-flight requests on SIGTERM.

``hypercorn.run.run`` stops waiting as soon as the first worker exits and terminates the rest,
cutting off whatever they were still answering. This supervisor asks every worker to stop, then
waits for all of them for the graceful timeout before terminating any.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from typing import Any

POLL_SECONDS = 0.5
EXTRA_GRACE_SECONDS = 5.0  # on top of Hypercorn's own graceful timeout, for process exit


def serve_workers(config: Any, workers: int) -> int:
    """Run ``workers`` processes serving ``config.application_path`` until SIGTERM or SIGINT.

    A worker that dies on its own stops the others too (the exit code says so), so an
    orchestrator restarts the whole unit rather than running it short of workers unnoticed.
    """
    from origin.observability.worker_metrics import shared_metrics_directory

    # The workers write their metrics to one directory, so any of them can answer /metrics.
    with shared_metrics_directory() as metrics_directory:
        return _supervise(config, workers, metrics_directory)


def _supervise(config: Any, workers: int, metrics_directory: str) -> int:
    from hypercorn.asyncio.run import asyncio_worker

    from origin.observability.worker_metrics import worker_exited

    context = multiprocessing.get_context("spawn")
    sockets = config.create_sockets()
    stopping = context.Event()
    # Ctrl-C reaches the whole process group; the workers leave it to this supervisor.
    previous_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
    processes = [
        context.Process(
            target=asyncio_worker,
            kwargs={"config": config, "sockets": sockets, "shutdown_event": stopping},
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    signal.signal(signal.SIGINT, previous_sigint)

    # The handler only flips a flag: setting the multiprocessing Event from a signal handler
    # could deadlock on the lock its wait() holds in this very thread.
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stop_requested and all(process.is_alive() for process in processes):
        time.sleep(POLL_SECONDS)
    stopping.set()

    deadline = time.monotonic() + config.graceful_timeout + EXTRA_GRACE_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.terminate()
            process.join()
        worker_exited(metrics_directory, process.pid)
    for sock in (*sockets.secure_sockets, *sockets.insecure_sockets):
        sock.close()
    return 0 if all(process.exitcode == 0 for process in processes) else 1
