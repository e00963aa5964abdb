"""The HTTP servers the origin runs on: one adapter module each, picked by name.

Every adapter serves ``origin.asgi:app`` on the socket ``outpost origin`` bound, in the calling
process, until SIGTERM or SIGINT, and then lets the requests in flight finish within
``graceful_timeout_seconds``. All of them: the origin's own JSON access log (the server's off),
the server's log lines through the root logger (so they are JSON too), HTTP/1.1 keep-alive of
:data:`KEEP_ALIVE_SECONDS`. Several workers run under :mod:`origin.cli.workers`, unless the
adapter runs its own (:attr:`ServerAdapter.runs_own_workers`).
"""

from __future__ import annotations

import importlib
import socket
from typing import Protocol, cast, get_args

from origin.settings import ServerName, Settings

ASGI_APP_PATH = "origin.asgi:app"
# Longer than typical load balancer idle timeouts (60 s), so the balancer closes first and never
# sends a request on a connection the origin is closing.
KEEP_ALIVE_SECONDS = 75
SERVER_NAMES: tuple[ServerName, ...] = get_args(ServerName)
DEFAULT_SERVER: ServerName = Settings.model_fields["server"].default


class ServerAdapter(Protocol):
    """What each module in this package provides."""

    # True when the server starts and drains its worker processes itself (granian: it binds its
    # own sockets); otherwise each worker is one ``serve`` call under our supervisor.
    runs_own_workers: bool

    def serve(self, settings: Settings, sock: socket.socket) -> int:
        """Serve on ``sock`` until SIGTERM/SIGINT; the process's exit code."""
        ...


def adapter(name: ServerName) -> ServerAdapter:
    """The adapter module of the server ``name`` (imported only when chosen)."""
    if name not in SERVER_NAMES:
        raise ValueError(f"unknown server {name!r}: one of {', '.join(SERVER_NAMES)}")
    return cast(ServerAdapter, importlib.import_module(f"{__name__}.{name}"))
