"""The origin on granian (Rust's hyper under an ASGI bridge): HTTP/1.1 and HTTP/2.

Two limits, both granian's (docs/deploy.md, Choosing the server):
- it answers malformed requests itself, with an empty body, and has no way to change that, so
  its protocol errors are not the origin's JSON error body;
- it binds its address itself (no way to hand it a socket): ``outpost origin`` checks the
  address is free by binding it, then lets go of it just before granian binds.
Several workers are granian's own processes; it drains them all on SIGTERM.
"""

from __future__ import annotations

import math
import multiprocessing
import socket

from origin.servers import ASGI_APP_PATH, KEEP_ALIVE_SECONDS
from origin.settings import Settings

runs_own_workers = True
# Its loggers without their handlers, so the lines reach the root logger (our JSON lines).
LOG_CONFIG = {"loggers": {"_granian": {"handlers": [], "propagate": True}}}


def server(settings: Settings, address: str, port: int) -> object:
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    return Granian(
        ASGI_APP_PATH,
        address=address,
        port=port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        loop=Loops.uvloop,
        log_level=LogLevels(settings.log_level.lower()),
        log_dictconfig=LOG_CONFIG,
        log_access=False,  # the origin writes its own structured access log
        # An idle connection waits this long for the next request's head: granian's keep-alive.
        http1_settings=HTTP1Settings(header_read_timeout=KEEP_ALIVE_SECONDS * 1000),
        workers_kill_timeout=math.ceil(settings.graceful_timeout_seconds),
    )


def serve(settings: Settings, sock: socket.socket) -> int:
    address, port = sock.getsockname()[:2]
    sock.close()  # granian binds the address itself
    # Granian starts its workers the way multiprocessing is set to. Forked, they would inherit
    # prometheus_client as this process imported it, before the shared metrics directory was
    # set, and count in memory only: started afresh, as our supervisor's workers are, they
    # write to the directory and one scrape sees them all.
    multiprocessing.set_start_method("spawn", force=True)
    granian = server(settings, address, port)
    try:
        granian.serve()  # type: ignore[attr-defined]
    except SystemExit as exit_:  # granian exits 1 when a worker failed to start
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0
