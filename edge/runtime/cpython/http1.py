"""HTTP/1.1 for the CPython edge on h11: the edge's upstream client, and the strict h11
connection both it and the edge's server (:mod:`edge.runtime.cpython.http_server`) parse with.

h11 (the sans-I/O HTTP/1.1 library under httpx and Hypercorn) does all parsing and framing:
status and header lines (header values never hold CR, LF or NUL), ``Content-Length`` (ASCII
digits only), chunked bodies with their extensions and trailers, interim 1xx answers, bodies
delimited by the close, keep-alive. :class:`StrictConnection` refuses the two things h11
tolerates in a message head, as RFC 9112 lets a recipient do: a line ended by a bare LF, and a
header line folded onto the next (obs-fold). A proxy that reads either differently from its
peer is how one message is made to look like two. What h11 holds of an unfinished head, chunk
line or trailer section is bounded by its ``max_incomplete_event_size``; a finished one came in
one read (at most 256 KiB with asyncio), so a connection never holds more than the two.

:class:`PooledHttp1Upstream` keeps one asyncio Protocol per keep-alive connection: h11 is fed
straight from ``data_received`` and the body is gathered there, so an exchange costs one wake-up
of the awaiting task. One request at a time per connection, TLS for ``https`` origins, one
deadline for the whole exchange, the answer's head and body bounded; anything that is not a
well-formed HTTP/1.1 answer is :class:`~edge.ports.UpstreamFailed`. A connection the origin
closed while it sat idle is retried once on a new one (idempotent methods only), and a
connection is reused only when h11 says the exchange ended cleanly with nothing left over.
``httpx`` (httpcore, also on h11) remains available as
:class:`edge.runtime.cpython.runtime.HttpxUpstream`; it spends ~1.3 ms per request on its own
layers on these machines, more than the edge's budget.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from urllib.parse import urlsplit

import h11

from edge.ports import UpstreamFailed, UpstreamRequest, UpstreamResponse, UpstreamTimeout

MAX_HEAD_BYTES = 65_536  # an origin's answer head, and any one chunk line or trailer section
IDLE_SECONDS = 50.0  # below the usual 60-75 s server keep-alive timeouts: never reuse a dying one
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_ALWAYS_SEND_LENGTH = frozenset({"POST", "PUT", "PATCH"})
_HEAD_EVENTS = (h11.Request, h11.InformationalResponse, h11.Response)


class StrictConnection:
    """An :class:`h11.Connection` that also refuses bare-LF line ends and obs-fold in heads.

    h11 reads both silently (a bare LF ends a line, a folded line joins the one before), so the
    head's own bytes are kept while one is being read and checked once h11 has parsed it; h11's
    unread bytes (``trailing_data``) tell where the head ended. Everything else is h11's.
    """

    __slots__ = ("_head", "h11")

    def __init__(self, our_role: type[h11.CLIENT] | type[h11.SERVER], max_head_bytes: int) -> None:
        self.h11 = h11.Connection(our_role, max_incomplete_event_size=max_head_bytes)
        self._head = bytearray()

    def receive_data(self, data: bytes) -> None:
        if data and self._reading_head():
            self._head += data
        self.h11.receive_data(data)

    def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        """h11's next event; raises :class:`h11.RemoteProtocolError` as h11 does, and for a
        head with a bare LF or obs-fold."""
        event = self.h11.next_event()
        if isinstance(event, _HEAD_EVENTS):
            consumed = len(self._head) - len(self.h11.trailing_data[0])
            _refuse_lenient_line_ends(self._head, consumed)
            if self._reading_head():  # after a 1xx, the next head has begun
                del self._head[:consumed]
            else:
                self._head.clear()
        return event

    def start_next_cycle(self) -> None:
        self.h11.start_next_cycle()
        self._head = bytearray(self.h11.trailing_data[0])  # a pipelined head may be waiting

    def _reading_head(self) -> bool:
        state = self.h11.their_state
        return state is h11.IDLE or state is h11.SEND_RESPONSE


def _refuse_lenient_line_ends(buffer: bytearray, end: int) -> None:
    """Raise for a bare LF or obs-fold in ``buffer[:end]`` (a head, without copying it)."""
    if buffer.count(b"\n", 0, end) != buffer.count(b"\r\n", 0, end):
        raise h11.RemoteProtocolError("a line of the head ends in a bare LF")
    if buffer.find(b"\n ", 0, end) >= 0 or buffer.find(b"\n\t", 0, end) >= 0:
        raise h11.RemoteProtocolError("a header line is folded (obs-fold)")


class _StaleConnection(Exception):
    """A reused connection ended before any byte of the answer: the server had closed it."""


class _OriginConnection(asyncio.Protocol):
    """One keep-alive connection to the origin. Between exchanges any byte from the origin, or
    its close, makes the connection unusable."""

    def __init__(self, max_body_bytes: int) -> None:
        self._max_body_bytes = max_body_bytes
        self._http = StrictConnection(h11.CLIENT, MAX_HEAD_BYTES)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[UpstreamResponse] | None = None
        self._reused = False
        self._received = False
        self._status = 0
        self._headers: list[tuple[str, str]] = []
        self._body = bytearray()
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._answer is not None and not self._answer.done():
            if self._reused and not self._received:
                self._answer.set_exception(_StaleConnection())
            else:
                self._fail("the origin closed the connection mid-answer")

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # unasked-for bytes: whatever comes next on it cannot be trusted
            return
        self._received = True
        self._http.receive_data(data)
        self._advance()

    def eof_received(self) -> bool | None:
        if self._answer is not None and not self._answer.done():
            if self._reused and not self._received:
                self._answer.set_exception(_StaleConnection())
                return None
            self._http.receive_data(b"")  # ends a body delimited by the close
            self._advance()
        return None  # the transport closes itself

    def usable(self, now: float) -> bool:
        transport = self._transport
        return (
            transport is not None
            and not transport.is_closing()
            and now - self.idle_since < IDLE_SECONDS
        )

    @property
    def reusable(self) -> bool:
        """The last exchange ended cleanly on both sides, nothing unread: ready for another."""
        connection = self._http.h11
        return (
            self._transport is not None
            and not self._transport.is_closing()
            and connection.our_state is h11.DONE
            and connection.their_state is h11.DONE
            and not connection.trailing_data[0]
        )

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def exchange(
        self, request: h11.Request, body: bytes, *, reused: bool
    ) -> UpstreamResponse:
        if reused:
            self._http.start_next_cycle()
        self._reused = reused
        self._received = False
        self._status, self._headers, self._body = 0, [], bytearray()
        self._answer = asyncio.get_running_loop().create_future()
        try:
            data = self._http.h11.send(request)
            if body:
                data += self._http.h11.send(h11.Data(data=body))
            data += self._http.h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            raise UpstreamFailed("the request cannot be sent as HTTP/1.1") from None
        if self._transport is None:
            raise _StaleConnection if reused else UpstreamFailed("the origin closed the connection")
        self._transport.write(data)
        return await self._answer

    def _advance(self) -> None:
        answer = self._answer
        assert answer is not None
        try:
            while not answer.done():
                event = self._http.next_event()
                if not isinstance(event, h11.Event):  # NEED_DATA (or PAUSED)
                    return
                self._take(event)
        except h11.RemoteProtocolError as error:
            self._fail(f"the origin's answer is not valid HTTP/1.1: {error}")
        except UpstreamFailed as error:
            answer.set_exception(error)

    def _take(self, event: h11.Event) -> None:
        assert self._answer is not None
        if isinstance(event, h11.Response):
            self._status = event.status_code
            self._headers = [
                (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers
            ]
            names = {name for name, _ in self._headers}
            if "transfer-encoding" in names and "content-length" in names:
                # h11 lets chunked win, as RFC 9112 allows; an answer framed two ways is
                # refused instead, as the edge refuses such requests.
                raise UpstreamFailed("the origin sent both Transfer-Encoding and Content-Length")
        elif isinstance(event, h11.Data):
            self._body += event.data
            if len(self._body) > self._max_body_bytes:
                raise UpstreamFailed("the origin's response is too large")
        elif isinstance(event, h11.EndOfMessage):
            self._answer.set_result(
                UpstreamResponse(self._status, self._headers, bytes(self._body))
            )
        elif isinstance(event, h11.ConnectionClosed):
            self._fail("the origin closed the connection mid-answer")
        # InformationalResponse (1xx, e.g. 103 Early Hints): interim, the answer follows.

    def _fail(self, reason: str) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(UpstreamFailed(reason))


class PooledHttp1Upstream:
    def __init__(self, *, max_body_bytes: int, max_idle_per_origin: int = 64) -> None:
        self._max_body_bytes = max_body_bytes
        self._max_idle = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], list[_OriginConnection]] = {}
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
        except OSError as error:
            raise UpstreamFailed(f"{type(error).__name__}: {error}") from None

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def _exchange(
        self, origin: tuple[str, str, int], head: h11.Request, request: UpstreamRequest
    ) -> UpstreamResponse:
        connection, reused = await self._connection(origin)
        try:
            try:
                response = await connection.exchange(head, request.body, reused=reused)
            except _StaleConnection:
                connection.close()
                if request.method not in _IDEMPOTENT:
                    raise UpstreamFailed("the origin closed the connection") from None
                connection = await self._open(origin)
                response = await connection.exchange(head, request.body, reused=False)
        except BaseException:
            connection.close()  # half-read answers leave a connection nobody can reuse
            raise
        self._release(origin, connection)
        return response

    async def _connection(self, origin: tuple[str, str, int]) -> tuple[_OriginConnection, bool]:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable(now):
                return connection, True
            connection.close()
        return await self._open(origin), False

    async def _open(self, origin: tuple[str, str, int]) -> _OriginConnection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            lambda: _OriginConnection(self._max_body_bytes), host, port, ssl=tls
        )
        return connection

    def _release(self, origin: tuple[str, str, int], connection: _OriginConnection) -> None:
        connection.idle_since = time.monotonic()
        idle = self._idle.setdefault(origin, [])
        if not connection.reusable or len(idle) >= self._max_idle:
            connection.close()
            return
        idle.append(connection)


def _request_head(request: UpstreamRequest, target: str, authority: str) -> h11.Request:
    """The request as h11 will send it; h11 refuses header values with CR, LF or NUL."""
    headers = [("host", authority), *request.headers]
    if request.body or request.method in _ALWAYS_SEND_LENGTH:
        headers.append(("content-length", str(len(request.body))))
    try:
        return h11.Request(
            method=request.method,
            target=target,
            headers=[(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers],
        )
    except (h11.LocalProtocolError, UnicodeEncodeError):
        raise UpstreamFailed("a header cannot be sent") from None  # never from a parsed request
