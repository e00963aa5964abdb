"""A lean HTTP/1.1 client for the edge's upstream port: pooled keep-alive connections on asyncio.

Why not httpx: on these machines httpx (and httpcore beneath it) spends ~1.3 ms per request on
its own layers, more than the edge's whole budget (1 ms over calling the origin directly). This
client does only what the edge needs: one request at a time per connection, ``Content-Length``
or chunked bodies, strict parsing (anything that is not a well-formed HTTP/1.1 response is an
:class:`~edge.ports.UpstreamFailed`), TLS for ``https`` origins, and a deadline for the whole
exchange. ``httpx`` remains available as :class:`edge.runtime.cpython.HttpxUpstream`.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from edge.ports import UpstreamFailed, UpstreamRequest, UpstreamResponse, UpstreamTimeout

MAX_HEAD_BYTES = 65_536
IDLE_SECONDS = 50.0  # below the usual 60-75 s server keep-alive timeouts: never reuse a dying one
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5][0-9][0-9])(?: [^\r\n]*)?")
_FIELD_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})(?:;[^\r\n]*)?")
_UNSAFE_VALUE = re.compile(r"[\x00\r\n]")
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_BODILESS_STATUSES = frozenset({204, 304})
_ALWAYS_SEND_LENGTH = frozenset({"POST", "PUT", "PATCH"})


class _StaleConnection(Exception):
    """A reused connection ended before any byte of the answer: the server had closed it."""


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self, now: float) -> bool:
        return not self.reader.at_eof() and now - self.idle_since < IDLE_SECONDS

    def close(self) -> None:
        self.writer.close()


class PooledHttp1Upstream:
    def __init__(self, *, max_body_bytes: int, max_idle_per_origin: int = 64) -> None:
        self._max_body_bytes = max_body_bytes
        self._max_idle = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    async def fetch(self, request: UpstreamRequest) -> UpstreamResponse:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UpstreamFailed(f"cannot fetch {request.url!r}")
        origin = (
            parts.scheme,
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
        )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = _request_head(request, target, parts.netloc)
        try:
            async with asyncio.timeout(request.timeout_seconds):
                return await self._exchange(origin, head, request)
        except TimeoutError:
            raise UpstreamTimeout(f"no answer from {request.url} in time") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            raise UpstreamFailed(f"{type(error).__name__}: {error}") from None

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def _exchange(
        self, origin: tuple[str, str, int], head: bytes, request: UpstreamRequest
    ) -> UpstreamResponse:
        connection, reused = await self._connection(origin)
        try:
            try:
                response, reusable = await self._send(connection, head, request, reused)
            except _StaleConnection:
                connection.close()
                if request.method not in _IDEMPOTENT:
                    raise UpstreamFailed("the origin closed the connection") from None
                connection = await self._open(origin)
                response, reusable = await self._send(connection, head, request, reused=False)
        except BaseException:
            connection.close()  # half-read answers leave a connection nobody can reuse
            raise
        if reusable:
            self._release(origin, connection)
        else:
            connection.close()
        return response

    async def _send(
        self, connection: _Connection, head: bytes, request: UpstreamRequest, reused: bool
    ) -> tuple[UpstreamResponse, bool]:
        try:
            connection.writer.write(head + request.body if request.body else head)
            await connection.writer.drain()
        except ConnectionError:
            if reused:
                raise _StaleConnection from None
            raise
        return await self._read_response(connection.reader, request.method, reused)

    async def _read_response(
        self, reader: asyncio.StreamReader, method: str, reused: bool
    ) -> tuple[UpstreamResponse, bool]:
        while True:
            try:
                raw_head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as error:
                if reused and not error.partial:
                    raise _StaleConnection from None
                raise UpstreamFailed("the origin closed the connection mid-answer") from None
            except ConnectionResetError:
                # A pooled connection the origin had closed: our request drew a reset instead
                # of an answer (whether it shows as EOF or as a reset depends on timing).
                if reused:
                    raise _StaleConnection from None
                raise
            status, headers = _parse_head(raw_head)
            if status >= 200:
                break  # 1xx (e.g. 103 Early Hints) are interim: the answer follows
        body, reusable = await self._read_body(reader, method, status, headers)
        connection_tokens = ",".join(v for n, v in headers if n == "connection").lower()
        reusable = reusable and "close" not in connection_tokens
        return UpstreamResponse(status, headers, body), reusable

    async def _read_body(
        self,
        reader: asyncio.StreamReader,
        method: str,
        status: int,
        headers: list[tuple[str, str]],
    ) -> tuple[bytes, bool]:
        if method == "HEAD" or status in _BODILESS_STATUSES:
            return b"", True
        encodings = [v.strip().lower() for n, v in headers if n == "transfer-encoding"]
        lengths = {v.strip() for n, v in headers if n == "content-length"}
        if encodings and lengths:
            raise UpstreamFailed("the origin sent both Transfer-Encoding and Content-Length")
        if encodings:
            if encodings != ["chunked"]:
                raise UpstreamFailed("the origin used a transfer coding other than chunked")
            return await self._read_chunked(reader), True
        if lengths:
            if len(lengths) != 1 or not next(iter(lengths)).isdigit():
                raise UpstreamFailed("the origin sent an invalid Content-Length")
            length = int(next(iter(lengths)))
            self._check_size(length)
            return await reader.readexactly(length), True
        body = bytearray()  # no length: the answer ends when the origin closes the connection
        while chunk := await reader.read(65_536):
            body += chunk
            self._check_size(len(body))
        return bytes(body), False

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        body = bytearray()
        while True:
            line = await reader.readuntil(b"\r\n")
            match = _CHUNK_SIZE.fullmatch(line[:-2])
            if match is None:
                raise UpstreamFailed("the origin sent a malformed chunk")
            size = int(match.group(1), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers are dropped
                return bytes(body)
            self._check_size(len(body) + size)
            body += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise UpstreamFailed("the origin sent a malformed chunk")

    def _check_size(self, size: int) -> None:
        if size > self._max_body_bytes:
            raise UpstreamFailed("the origin's response is too large")

    async def _connection(self, origin: tuple[str, str, int]) -> tuple[_Connection, bool]:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable(now):
                return connection, True
            connection.close()
        return await self._open(origin), False

    async def _open(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        reader, writer = await asyncio.open_connection(host, port, ssl=tls, limit=MAX_HEAD_BYTES)
        return _Connection(reader, writer)

    def _release(self, origin: tuple[str, str, int], connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) >= self._max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)


def _request_head(request: UpstreamRequest, target: str, authority: str) -> bytes:
    lines = [f"{request.method} {target} HTTP/1.1", f"host: {authority}"]
    for name, value in request.headers:
        if _UNSAFE_VALUE.search(name) or _UNSAFE_VALUE.search(value):
            raise UpstreamFailed("a header cannot be sent")  # never from a parsed request
        lines.append(f"{name}: {value}")
    if request.body or request.method in _ALWAYS_SEND_LENGTH:
        lines.append(f"content-length: {len(request.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(raw: bytes) -> tuple[int, list[tuple[str, str]]]:
    lines = raw[:-4].split(b"\r\n")
    match = _STATUS_LINE.fullmatch(lines[0])
    if match is None:
        raise UpstreamFailed("the origin's answer is not HTTP/1.1")
    return int(match.group(1)), list(_fields(lines[1:]))


def _fields(lines: Iterable[bytes]) -> Iterable[tuple[str, str]]:
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or _FIELD_NAME.fullmatch(name) is None:
            raise UpstreamFailed("the origin sent a malformed header")  # incl. obs-fold
        yield name.decode("ascii").lower(), value.strip(b" \t").decode("latin-1")
