"""Run an asyncio server in a thread of its own, so synchronous tests can talk to it over HTTP."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

ServeFunction = Callable[[asyncio.Event], Awaitable[Any]]


def bound_socket(host: str = "127.0.0.1") -> tuple[socket.socket, int]:
    """A listening socket on a free port: bound and listening now, so no other process can take
    the port and connections wait in the backlog until the server starts accepting."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock, sock.getsockname()[1]


class ServerThread:
    """``serve(stop)`` runs in the thread's event loop until ``stop`` is set by :meth:`stop`."""

    def __init__(self, serve: ServeFunction, name: str) -> None:
        self._serve = serve
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._started.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError(f"{self._thread.name} failed to start") from self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._loop.call_soon(self._started.set)
        try:
            await self._serve(self._stop)
        except BaseException as error:
            self._error = error
            self._started.set()
            raise
