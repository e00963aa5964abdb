"""The origin on uvicorn, with uvloop and httptools: HTTP/1.1 only.

Its protocol errors go through :class:`origin.server_errors.JsonErrorHttpToolsProtocol`, handed to
uvicorn as its HTTP protocol class, so they carry the origin's JSON error body.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from origin.servers import ASGI_APP_PATH, KEEP_ALIVE_SECONDS
from origin.settings import Settings

runs_own_workers = False
STARTUP_FAILED = 3  # uvicorn's own exit code when the application's start-up fails


def config(settings: Settings, app: Any = ASGI_APP_PATH) -> Any:
    """uvicorn's settings for ``app`` (an import path, or the application itself)."""
    import uvicorn

    from origin.server_errors import JsonErrorHttpToolsProtocol

    return uvicorn.Config(
        app,
        loop="uvloop",
        http=JsonErrorHttpToolsProtocol,
        ws="none",  # the origin serves no WebSocket: an Upgrade request is plain HTTP
        # X-Forwarded-For is anyone's to send: the client is the peer, or what a verified edge
        # assertion says (origin.principals), never a header (uvicorn trusts it from 127.0.0.1).
        proxy_headers=False,
        lifespan="on",
        log_config=None,  # our logging is configured already; uvicorn's loggers propagate to it
        log_level=settings.log_level.lower(),
        access_log=False,  # the origin writes its own structured access log
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=int(settings.graceful_timeout_seconds),
        server_header=False,
    )


def serve(settings: Settings, sock: socket.socket) -> int:
    import uvicorn

    server = uvicorn.Server(config(settings))
    # uvicorn raises the signal that stopped it again once it has drained, for the handler that
    # was there before: this one, so a graceful stop ends with exit code 0, not "killed".
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _already_handled)
    server.run(sockets=[sock])  # stops on SIGTERM/SIGINT, draining what is in flight
    return 0 if server.started else STARTUP_FAILED


def _already_handled(signum: int, frame: object) -> None:
    """uvicorn's stop signal, raised again after uvicorn stopped on it: nothing left to do."""


async def serve_app(
    app: Any, settings: Settings, sock: socket.socket, shutdown: Callable[[], Awaitable[object]]
) -> None:
    """Serve ``app`` in the running event loop until ``shutdown()`` returns (``outpost dev``)."""
    import uvicorn

    server = uvicorn.Server(config(settings, app))

    async def stop_when_asked() -> None:
        await shutdown()
        server.should_exit = True

    stopper = asyncio.ensure_future(stop_when_asked())
    try:
        await server.serve(sockets=[sock])
    finally:
        stopper.cancel()
    if not server.started:
        raise RuntimeError("the origin did not start (its start-up failed: see the log)")
