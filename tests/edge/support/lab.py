"""A scripted origin on 127.0.0.1 for edge tests: real HTTP/1.1 (h11) on a real socket.

By default it echoes each request as JSON (method, target, headers, body) without any caching
headers. A test can script a path: a list of responses served in order (the last one repeats),
each either an HTTP response or a fault (garbage bytes, a reset, a hang, a close). It also serves
a JWKS that tests can change, and records every request it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

import h11

from tests.edge.support.threads import ServerThread, bound_socket

JWKS_PATH = "/.well-known/jwks.json"


@dataclass(frozen=True)
class LabResponse:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    fault: str | None = None  # "garbage", "reset", "hang", "close"
    close_after: bool = False  # answer, then close the connection without saying so
    raw: bytes | None = None  # send these bytes as the whole answer instead

    @classmethod
    def json(cls, document: Any, *headers: tuple[str, str], status: int = 200) -> LabResponse:
        body = json.dumps(document).encode()
        return cls(status, (("content-type", "application/json"), *headers), body)


GARBAGE = LabResponse(fault="garbage")
RESET = LabResponse(fault="reset")
HANG = LabResponse(fault="hang")
CLOSE = LabResponse(fault="close")


@dataclass(frozen=True)
class Received:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def header_names(self) -> set[str]:
        return {name for name, _ in self.headers}


@dataclass
class Lab:
    base_url: str = ""
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    jwks_fetches: int = 0
    _scripts: dict[str, list[LabResponse]] = field(default_factory=dict)
    _received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def script(self, path: str, *responses: LabResponse) -> str:
        """Serve ``responses`` in order for ``path`` (the last repeats); returns the URL path."""
        with self._lock:
            self._scripts[path] = list(responses)
        return path

    def received(self, path: str | None = None) -> list[Received]:
        """Requests received (for ``path``, compared without the query), oldest first."""
        with self._lock:
            found = list(self._received)
        if path is None:
            return found
        return [item for item in found if item.target.partition("?")[0] == path]

    def set_jwks(self, document: dict[str, Any]) -> None:
        with self._lock:
            self.jwks = document

    def _respond_to(self, request: Received) -> LabResponse:
        path = request.target.partition("?")[0]
        with self._lock:
            self._received.append(request)
            if path == JWKS_PATH:
                self.jwks_fetches += 1
                return LabResponse.json(self.jwks)
            script = self._scripts.get(path)
            if script:
                return script.pop(0) if len(script) > 1 else script[0]
        return LabResponse.json(
            {
                "method": request.method,
                "target": request.target,
                "headers": [list(pair) for pair in request.headers],
                "body": request.body.decode("utf-8", "replace"),
            }
        )

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Register the connection at once, then serve it: a connection accepted just as the lab
        stops is still closed by it (a task cancelled before it ran would leak its socket)."""
        self._writers.add(writer)
        task = asyncio.get_running_loop().create_task(self._connection(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h11.Connection(h11.SERVER)
        self._writers.add(writer)
        try:
            while True:
                received = await _next_request(connection, reader)
                if received is None:
                    return
                response = self._respond_to(received)
                if response.fault is not None:
                    await _misbehave(response.fault, writer)
                    return
                if response.raw is not None:
                    writer.write(response.raw)
                    await writer.drain()
                    return
                headers = [*response.headers, ("content-length", str(len(response.body)))]
                writer.write(
                    connection.send(h11.Response(status_code=response.status, headers=headers))
                )
                writer.write(connection.send(h11.Data(data=response.body)) or b"")
                writer.write(connection.send(h11.EndOfMessage()) or b"")
                await writer.drain()
                if response.close_after:
                    return
                if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                    return
                connection.start_next_cycle()
        except (h11.ProtocolError, ConnectionError):
            return
        except asyncio.CancelledError:
            return  # the lab is shutting down (a hanging answer ends here)
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()


async def _next_request(
    connection: h11.Connection, reader: asyncio.StreamReader
) -> Received | None:
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            connection.receive_data(data)
            if not data and connection.their_state is h11.IDLE:
                return None
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage) and request is not None:
            return Received(
                method=request.method.decode(),
                target=request.target.decode("latin-1"),
                headers=tuple(
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in request.headers
                ),
                body=bytes(body),
            )
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None


async def _misbehave(fault: str, writer: asyncio.StreamWriter) -> None:
    if fault == "garbage":
        writer.write(b"\x00\x01 this is not HTTP at all\r\n\r\n")
        await writer.drain()
    elif fault == "reset":
        sock = writer.get_extra_info("socket")
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif fault == "hang":
        await asyncio.sleep(3600)


@contextlib.contextmanager
def running_lab() -> Any:
    lab = Lab()
    sock, port = bound_socket()
    lab.base_url = f"http://127.0.0.1:{port}"

    async def serve(stop: asyncio.Event) -> None:
        server = await asyncio.start_server(lab._accepted, sock=sock)
        async with server:
            await stop.wait()
            server.close()
            for writer in list(lab._writers):  # idle keep-alive connections end cleanly
                writer.close()
            await asyncio.sleep(0.05)

    thread = ServerThread(serve, "lab-origin")
    thread.start()
    try:
        yield lab
    finally:
        thread.stop()
