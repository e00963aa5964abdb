"""A PostgreSQL wire tap: a TCP proxy in front of the real server that counts round trips.

Why a proxy rather than the server's statement log or ``pg_stat_statements``: a round trip is
what costs a request its latency, and not every round trip is a statement (a pre-ping, the
``BEGIN`` and ``ROLLBACK`` around a read, a prepared statement's ``Parse``). The statement log
needs a superuser and the server's log file, ``pg_stat_statements`` needs
``shared_preload_libraries`` (not loaded on this machine's server) and neither sees the protocol.
The proxy sees every message the app sends, on any server, without privileges.

Counted: each message after which the client waits for the server's ``ReadyForQuery``, i.e. a
simple ``Query`` ('Q') or an extended-protocol ``Sync`` ('S'). That is one round trip each,
however many Parse/Bind/Execute messages were pipelined before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_WAITS_FOR_SERVER = {b"Q", b"S"}


@dataclass
class WireTap:
    """What the app sent through the proxy; :meth:`reset` before the request to measure."""

    url: str = ""
    round_trips: int = 0
    messages: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.round_trips = 0
        self.messages.clear()


class _ClientStream:
    """Splits the client's byte stream into protocol messages and counts them."""

    def __init__(self, tap: WireTap) -> None:
        self._tap = tap
        self._buffer = b""
        self._started = False  # before the StartupMessage, messages have no type byte

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if not self._started:
                if len(self._buffer) < 8:
                    return
                (length, code) = struct.unpack("!ii", self._buffer[:8])
                if len(self._buffer) < length:
                    return
                self._buffer = self._buffer[length:]
                if code not in (_SSL_REQUEST, _GSSENC_REQUEST):
                    self._started = True
                continue
            if len(self._buffer) < 5:
                return
            kind = self._buffer[:1]
            (length,) = struct.unpack("!i", self._buffer[1:5])
            if len(self._buffer) < 1 + length:
                return
            self._buffer = self._buffer[1 + length :]
            self._tap.messages[kind.decode()] += 1
            if kind in _WAITS_FOR_SERVER:
                self._tap.round_trips += 1


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stream: _ClientStream | None
) -> None:
    try:
        while data := await reader.read(65536):
            if stream is not None:
                stream.feed(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@contextlib.asynccontextmanager
async def wire_tap(server_url: str) -> AsyncIterator[WireTap]:
    """A proxy to the database ``server_url`` names; ``tap.url`` is the same database through it.

    SSL is switched off on the proxied URL (the tap reads the protocol in clear).
    """
    rest = server_url.split("://", 1)[1]
    hostport, _, database = rest.partition("/")
    host, _, port = hostport.rpartition("@")[2].partition(":")
    tap = WireTap()
    tasks: set[asyncio.Task[None]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port or 5432))
        stream = _ClientStream(tap)
        for task in (
            asyncio.create_task(_pipe(reader, upstream_writer, stream)),
            asyncio.create_task(_pipe(upstream_reader, writer, None)),
        ):
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    proxy_port = server.sockets[0].getsockname()[1]
    tap.url = f"postgresql://127.0.0.1:{proxy_port}/{database}?ssl=disable"
    try:
        yield tap
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
