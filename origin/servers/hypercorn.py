"""The origin on Hypercorn: HTTP/1.1 and HTTP/2 (h2c) on the bound socket; HTTP/3 with TLS.

Its HTTP/1.1 protocol errors (400, 431) carry the JSON error body (origin.server_errors).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from origin.server_errors import MAX_HEAD_BYTES
from origin.servers import ASGI_APP_PATH, KEEP_ALIVE_SECONDS
from origin.settings import Settings

runs_own_workers = False
# uvloop's event loop, as uvicorn and granian run on: the asyncio worker class was not measured
# side by side against it (docs/benchmarks.md, Origin throughput by server).
WORKER_CLASS = "uvloop"


def config(settings: Settings, bind: str) -> Any:
    """Hypercorn's settings; ``bind`` is the ``fd://N`` of the socket the command bound."""
    from hypercorn.config import Config

    config = Config()
    config.bind = [bind]
    config.application_path = ASGI_APP_PATH
    config.worker_class = WORKER_CLASS
    config.workers = 0  # serve in this process
    config.graceful_timeout = settings.graceful_timeout_seconds
    config.loglevel = settings.log_level
    config.accesslog = None  # the origin writes its own structured access log
    # Hypercorn logs through this logger as it is, so its lines come out as our JSON too.
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = KEEP_ALIVE_SECONDS
    config.h11_max_incomplete_size = MAX_HEAD_BYTES
    return config


def serve(settings: Settings, sock: socket.socket) -> int:
    from hypercorn.run import run

    # Hypercorn closes the descriptor it is given when it stops: it gets its own.
    return run(config(settings, f"fd://{os.dup(sock.fileno())}"))
