"""Several worker processes serving one socket, that all finish their in-flight requests on
SIGTERM, whichever server they run.

Each worker is one ``serve`` call of a server adapter (origin.servers) in its own process, on the
socket the command bound. On SIGTERM or SIGINT this supervisor sends every worker SIGTERM (each
server drains on it), then waits for all of them for the graceful timeout before killing any.
(``hypercorn.run.run`` stops waiting as soon as the first worker exits and terminates the rest,
cutting off whatever they were still answering.)
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time

from origin.servers import ServerAdapter
from origin.settings import Settings

POLL_SECONDS = 0.5
EXTRA_GRACE_SECONDS = 5.0  # on top of the server's own graceful timeout, for process exit


def serve_workers(server: ServerAdapter, settings: Settings, sock: socket.socket) -> int:
    """Run ``settings.workers`` processes serving on ``sock`` until SIGTERM or SIGINT.

    A worker that dies on its own stops the others too (the exit code says so), so an
    orchestrator restarts the whole unit rather than running it short of workers unnoticed.
    """
    from origin.observability.worker_metrics import shared_metrics_directory

    # The workers write their metrics to one directory, so any of them can answer /metrics.
    with shared_metrics_directory() as metrics_directory:
        if server.runs_own_workers:
            return server.serve(settings, sock)
        return _supervise(server, settings, sock, metrics_directory)


def _supervise(
    server: ServerAdapter, settings: Settings, sock: socket.socket, metrics_directory: str
) -> int:
    from origin.observability.worker_metrics import worker_exited

    context = multiprocessing.get_context("spawn")
    # Ctrl-C reaches the whole process group; the workers leave it to this supervisor (their
    # servers replace the ignored handler with their own once they serve).
    previous_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
    processes = [
        context.Process(target=server.serve, args=(settings, sock), name=f"origin-worker-{n}")
        for n in range(1, settings.workers + 1)
    ]
    for process in processes:
        process.start()
    signal.signal(signal.SIGINT, previous_sigint)

    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stop_requested and all(process.is_alive() for process in processes):
        time.sleep(POLL_SECONDS)
    for process in processes:
        process.terminate()  # SIGTERM: every server stops accepting and drains

    deadline = time.monotonic() + settings.graceful_timeout_seconds + EXTRA_GRACE_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join()
        worker_exited(metrics_directory, process.pid)
    return 0 if all(process.exitcode == 0 for process in processes) else 1
