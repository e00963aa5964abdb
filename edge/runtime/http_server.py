"""A small HTTP/1.1 server for the CPython edge, on asyncio (no web framework, no ASGI layer).

Why not Hypercorn: on these machines it costs ~0.7 ms per request at one connection, most of
the edge's 1 ms budget. This server does what the edge needs and no more: one request at a time
per connection (pipelined requests wait their turn), ``Content-Length`` and chunked request
bodies, ``Expect: 100-continue``, keep-alive with an idle timeout that also bounds how long a
client may take to send one request (slow-loris), and strict parsing: a malformed request is a
JSON 400 and the connection is closed. Size limits, smuggling shapes and everything else about
the request are the pipeline's to judge (see :mod:`edge.request_checks`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from http import HTTPStatus

from edge.answers import error_response
from edge.http import EdgeRequest, EdgeResponse, Headers

logger = logging.getLogger("outpost.edge")

# Above the pipeline's own header limit, so oversized headers get its JSON 431.
MAX_HEAD_BYTES = 128 * 1024
KEEP_ALIVE_SECONDS = 75.0  # also the time a client has to send a whole request
_REQUEST_LINE = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/1\.([01])")
_FIELD = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})(?:;[^\r\n]*)?")
_NO_BODY = frozenset({204, 304})
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})

Handler = Callable[[EdgeRequest], Awaitable[EdgeResponse]]


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class _Incomplete(Exception):
    pass


class EdgeHttpProtocol(asyncio.Protocol):
    def __init__(self, server: EdgeServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._busy = False
        self._continue_sent = False
        self._timer: asyncio.TimerHandle | None = None
        self._peer: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._peer = client_address(transport.get_extra_info("peername"))
        self._server.connections.add(self)
        self._start_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._cancel_timer()
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._advance()

    @property
    def idle(self) -> bool:
        return not self._busy

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _advance(self) -> None:
        if self._busy or self._transport is None:
            return
        try:
            parsed = self._parse()
        except _Incomplete:
            return
        except _BadRequest as error:
            refusal = error_response(error.status, error.code, str(error), [("x-cache", "BYPASS")])
            self._write(refusal, "GET", close=True)
            return
        self._busy = True
        self._continue_sent = False
        self._cancel_timer()
        self._transport.pause_reading()
        request, close = parsed
        task = asyncio.get_running_loop().create_task(self._respond(request, close))
        self._server.track(task)

    async def _respond(self, request: EdgeRequest, close: bool) -> None:
        try:
            response = await self._server.handler(request)
        except Exception:  # the pipeline answers everything; this is a last resort
            logger.exception("edge handler failed")
            response = error_response(500, "internal_error", "the edge failed")
        close = close or self._server.closing or response.header("connection") == "close"
        self._write(response, request.method, close)
        if close or self._transport is None:
            return
        self._busy = False
        self._transport.resume_reading()
        self._start_timer()
        self._advance()  # a pipelined request may be waiting in the buffer

    def _parse(self) -> tuple[EdgeRequest, bool]:
        """The next whole request in the buffer (taken out of it), and whether to close after."""
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise _BadRequest("the request head is too large", 431, "headers_too_large")
            raise _Incomplete
        lines = self._buffer[:end].decode("latin-1").split("\r\n")
        match = _REQUEST_LINE.fullmatch(lines[0])
        if match is None:
            raise _BadRequest("malformed request line")
        method, target, minor = match.groups()
        headers = Headers(_fields(lines[1:]))
        body, body_end, framing_ok = self._body(headers, end + 4)
        del self._buffer[:body_end]
        keep_alive = _keep_alive(minor, headers) and framing_ok
        return EdgeRequest(method, target, headers, body, self._peer), not keep_alive

    def _body(self, headers: Headers, start: int) -> tuple[bytes, int, bool]:
        """``(body, end of the request in the buffer, framing understood)``.

        Bodies longer than the pipeline accepts are cut at one byte over (so it refuses them)
        and the connection closes after the answer, the rest unread. Framing the pipeline will
        refuse (both ``Transfer-Encoding`` and ``Content-Length``, unknown codings, bad
        lengths) gets an empty body and a closing connection: what follows cannot be trusted.
        """
        limit = self._server.max_body_bytes + 1
        encodings = headers.get_all("transfer-encoding")
        lengths = headers.get_all("content-length")
        if encodings:
            if lengths or [e.strip().lower() for e in encodings] != ["chunked"]:
                return b"", start, False
            return self._chunked(start, limit)
        if not lengths:
            return b"", start, True
        values = {part.strip() for value in lengths for part in value.split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            return b"", start, False
        length = int(next(iter(values)))
        wanted = min(length, limit)
        self._continue_if_expected(headers, length < limit)
        if len(self._buffer) - start < wanted:
            raise _Incomplete
        return bytes(self._buffer[start : start + wanted]), start + wanted, length < limit

    def _chunked(self, start: int, limit: int) -> tuple[bytes, int, bool]:
        body = bytearray()
        position = start
        while True:
            line_end = self._buffer.find(b"\r\n", position)
            if line_end < 0:
                raise _Incomplete
            match = _CHUNK_SIZE.fullmatch(self._buffer[position:line_end])
            if match is None:
                raise _BadRequest("malformed chunked body")
            size = int(match.group(1), 16)
            position = line_end + 2
            if size == 0:
                trailers_end = self._buffer.find(b"\r\n\r\n", position - 2)
                if trailers_end < 0:
                    raise _Incomplete
                return bytes(body), trailers_end + 4, True
            if len(body) + size >= limit:
                # Over the limit: a body of limit bytes (the pipeline refuses it, 413, without
                # looking inside) and a connection that closes with the rest unread.
                return bytes(body) + b"\0" * (limit - len(body)), position, False
            if len(self._buffer) < position + size + 2:
                raise _Incomplete
            body += self._buffer[position : position + size]
            if self._buffer[position + size : position + size + 2] != b"\r\n":
                raise _BadRequest("malformed chunked body")
            position += size + 2

    def _continue_if_expected(self, headers: Headers, acceptable: bool) -> None:
        expect = headers.get("expect")
        if expect is None or expect.lower() != "100-continue" or not acceptable:
            return
        if self._transport is not None and not self._continue_sent:
            self._continue_sent = True  # the head is parsed again as the body arrives
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _write(self, response: EdgeResponse, method: str, close: bool) -> None:
        if self._transport is None:
            return
        self._transport.write(_encode(response, method, close))
        if close:
            self._transport.close()

    def _start_timer(self) -> None:
        self._cancel_timer()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(KEEP_ALIVE_SECONDS, self.close)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class EdgeServer:
    def __init__(self, handler: Handler, *, max_body_bytes: int) -> None:
        self.handler = handler
        self.max_body_bytes = max_body_bytes
        self.connections: set[EdgeHttpProtocol] = set()
        self.closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    def protocol(self) -> EdgeHttpProtocol:
        return EdgeHttpProtocol(self)

    def track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def shutdown(self, grace_seconds: float = 10.0) -> None:
        """Finish the requests in flight (each then closes its connection), close idle ones."""
        self.closing = True
        for connection in list(self.connections):
            if connection.idle:
                connection.close()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for connection in list(self.connections):
            connection.close()


def _fields(lines: list[str]) -> list[tuple[str, str]]:
    fields = []
    for line in lines:
        match = _FIELD.fullmatch(line)
        if match is None:  # also refuses obs-fold and whitespace before the colon
            raise _BadRequest("malformed header field")
        fields.append((match.group(1), match.group(2)))
    return fields


def _keep_alive(minor: str, headers: Headers) -> bool:
    tokens = {t.strip().lower() for v in headers.get_all("connection") for t in v.split(",")}
    if "close" in tokens:
        return False
    return minor == "1" or "keep-alive" in tokens


def _encode(response: EdgeResponse, method: str, close: bool) -> bytes:
    status = response.status
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{n}: {v}" for n, v in response.headers if n not in _FRAMING_HEADERS]
    if response.header("date") is None:
        lines.append(f"date: {formatdate(usegmt=True)}")
    has_body = method != "HEAD" and status not in _NO_BODY and status >= 200
    if has_body:
        lines.append(f"content-length: {len(response.body)}")
    if close:
        lines.append("connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + response.body if has_body else head


def client_address(peername: object) -> str | None:
    """The peer's IP address from ``peername`` (a (host, port, ...) tuple for TCP sockets)."""
    if isinstance(peername, tuple) and peername and isinstance(peername[0], str):
        return peername[0]
    return None
