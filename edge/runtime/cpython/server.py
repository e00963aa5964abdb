"""Serve the CPython edge (``outpost edge --runtime cpython``): the runtime's ports, the
pipeline, and the HTTP server of :mod:`edge.runtime.cpython.http_server`."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from edge.config import EdgeConfig
from edge.pipeline import EdgePipeline
from edge.runtime.cpython.http_server import EdgeServer
from edge.runtime.cpython.runtime import cpython_runtime


async def serve_edge(
    config: EdgeConfig,
    *,
    bind: str,
    env: Mapping[str, str] | None = None,
    shutdown_trigger: Callable[[], Awaitable[Any]] | None = None,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Serve until ``shutdown_trigger`` returns; ``bind`` is ``host:port`` or ``fd://N`` (an
    already bound socket). ``on_listening`` is called once the socket accepts connections.
    In-flight requests finish, then background work, then the pool."""
    async with cpython_runtime(config, env) as runtime:
        pipeline = EdgePipeline(config, runtime)
        edge = EdgeServer(pipeline.handle, limits=config.limits)
        loop = asyncio.get_running_loop()
        if bind.startswith("fd://"):
            sock = socket.socket(fileno=int(bind.removeprefix("fd://")))
            server = await loop.create_server(edge.protocol, sock=sock)
        else:
            host, _, port = bind.rpartition(":")
            server = await loop.create_server(edge.protocol, host.strip("[]"), int(port))
        if on_listening is not None:
            on_listening()
        try:
            await (shutdown_trigger or asyncio.Event().wait)()
        finally:
            server.close()
            await edge.shutdown()
            await server.wait_closed()
