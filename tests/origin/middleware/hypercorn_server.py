"""Run an ASGI app on a real Hypercorn server on 127.0.0.1 for the length of a test."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.types import ASGIApp


@asynccontextmanager
async def hypercorn_serving(app: ASGIApp) -> AsyncIterator[tuple[str, int]]:
    """Yields ``(host, port)`` of a Hypercorn server running ``app`` in this event loop."""
    # Binding the listening socket ourselves gives a free port with no race.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        host, port = listener.getsockname()
        config = Config()
        # Hypercorn closes the descriptor it is given when it stops, so it gets a duplicate.
        config.bind = [f"fd://{os.dup(listener.fileno())}"]
        config.accesslog = None
        config.errorlog = logging.getLogger("hypercorn.error")
        config.graceful_timeout = 1.0
        shutdown = asyncio.Event()
        server = asyncio.create_task(serve(cast(Any, app), config, shutdown_trigger=shutdown.wait))
        try:
            yield host, port
        finally:
            shutdown.set()
            await server
