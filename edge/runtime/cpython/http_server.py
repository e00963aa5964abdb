"""The CPython edge's HTTP/1.1 server: an asyncio Protocol around h11.

h11 parses and frames everything, through
:class:`edge.runtime.cpython.http1.StrictConnection` (which
also refuses bare-LF line ends and obs-fold): the request line, header fields, exactly one
``Host`` on HTTP/1.1, ``Content-Length`` as ASCII digits only, chunked bodies with their
extensions and trailers, keep-alive and pipelining, and the framing of every answer. Around it,
this server:

- bounds what a connection holds: the request head, and any one chunk line or trailer section,
  to the head bound (h11's ``max_incomplete_event_size``; above the pipeline's URL and header
  limits, so heads up to there get the pipeline's own 414 or 431); the body to the edge's body
  limit (past it a 413, the rest unread). One request is handled at a time; reading pauses
  once a head's worth of bytes waits behind it, and while the transport's write buffer is above
  its high-water mark: a client that pipelines requests without reading the answers stops being
  read, and its requests wait in its socket;
- refuses what framing alone does not: versions other than 1.0 and 1.1 (505), and requests the
  pipeline refuses from their head (unknown method, long URL, big headers, ``Transfer-Encoding``
  with ``Content-Length``, a declared length over the limit) before reading their body; only a
  request whose body will be read gets ``100 Continue`` for ``Expect: 100-continue``;
- times out: a keep-alive idle timeout that also bounds how long a client may take to send one
  request (slow loris);
- answers every refusal with the JSON error body, logs no traceback for client garbage, and
  after a refusal closes its side, then drains what the client still sends for a moment, so the
  client reads the answer rather than a reset.

Why not Hypercorn (also on h11): its ASGI layer costs ~0.7 ms per request on these machines,
most of the edge's 1 ms budget. h11 itself, server and upstream client together, adds about a
third of a millisecond of CPU per forwarded request over hand-written parsing
(docs/benchmarks.md): the price of a maintained parser that bounds and checks every part.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from http import HTTPStatus

import h11

from edge.answers import EarlyAnswer, error_response
from edge.config import RequestLimits
from edge.http import EdgeRequest, EdgeResponse, Headers
from edge.request_checks import check_request
from edge.runtime.cpython.http1 import StrictConnection

logger = logging.getLogger("outpost.edge")

# The head bound is the pipeline's URL and header limits plus room for the request line and
# field syntax, and never below MIN_HEAD_BYTES.
MIN_HEAD_BYTES = 65_536
HEAD_SLACK_BYTES = 16_384
KEEP_ALIVE_SECONDS = 75.0  # also the time a client has to send a whole request
LINGER_SECONDS = 2.0  # after a refusal: how long what the client still sends is drained
WRITE_HIGH_WATER_BYTES = 65_536  # answers queued beyond this pause reading the connection
_VERSIONS = frozenset({b"1.0", b"1.1"})
_NO_BODY_STATUSES = frozenset({204, 304})
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_REASONS = {status.value: status.phrase.encode("ascii") for status in HTTPStatus}
_BYPASS = [("x-cache", "BYPASS")]

Handler = Callable[[EdgeRequest], Awaitable[EdgeResponse]]


class EdgeHttpProtocol(asyncio.Protocol):
    def __init__(self, server: EdgeServer) -> None:
        self._server = server
        self._http = StrictConnection(h11.SERVER, server.max_head_bytes)
        self._transport: asyncio.Transport | None = None
        self._peer: str | None = None
        self._request: EdgeRequest | None = None  # its head is read, its body is being read
        self._body = bytearray()
        self._busy = False  # the pipeline is handling this connection's request
        self._held = 0  # bytes received while busy: pipelined, parsed once the answer has gone
        self._writable = True  # the write buffer is below its high-water mark
        self._reading = True
        self._lingering = False
        self._timer: asyncio.TimerHandle | None = None

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER_BYTES)
        self._peer = client_address(transport.get_extra_info("peername"))
        self._server.connections.add(self)
        self._start_timer(KEEP_ALIVE_SECONDS)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._cancel_timer()
        self._transport = None

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # after a refusal: drained, never parsed
        self._http.receive_data(data)
        if self._busy:
            self._held += len(data)
            self._update_reading()
            return
        self._advance()

    def eof_received(self) -> bool | None:
        if self._lingering:
            return None
        self._http.receive_data(b"")
        if self._busy:
            return True  # answer first: the close is taken up once the answer has gone
        self._advance()
        return None  # the transport closes once what was written has gone

    def pause_writing(self) -> None:
        self._writable = False
        self._update_reading()

    def resume_writing(self) -> None:
        self._writable = True
        self._update_reading()
        self._advance()  # a pipelined request may be waiting

    @property
    def idle(self) -> bool:
        return not self._busy

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # Requests

    def _advance(self) -> None:
        """Take h11's events until a request is dispatched, more data is needed, or the answers
        already queued are too many."""
        while not self._busy and self._writable and not self._lingering and self._transport:
            try:
                event = self._http.next_event()
            except h11.RemoteProtocolError as error:
                self._refuse(self._malformed(error))
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._begin(event)
            elif isinstance(event, h11.Data):
                self._take_body(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._dispatch(close=False)
            elif isinstance(event, h11.ConnectionClosed):
                self.close()
                return

    def _begin(self, head: h11.Request) -> None:
        if head.http_version not in _VERSIONS:
            message = "only HTTP/1.0 and HTTP/1.1 are served"
            self._refuse(error_response(505, "http_version_not_supported", message))
            return
        request = EdgeRequest(
            method=head.method.decode("ascii"),
            target=head.target.decode("ascii"),
            headers=Headers((n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers),
            client=self._peer,
        )
        self._request = request
        self._body = bytearray()
        length = request.headers.get("content-length")  # h11 left one, of ASCII digits
        if "transfer-encoding" not in request.headers and (length is None or int(length) == 0):
            return  # no body: the EndOfMessage follows
        if self._refused_from_head(request):
            self._dispatch(close=True)  # the pipeline's refusal; the body is never read
            return
        limit = self._server.limits.max_body_bytes
        if length is not None and int(length) > limit:
            self._refuse(_too_large(limit))
            return
        if self._http.h11.they_are_waiting_for_100_continue:
            proceed = h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
            self._write(self._http.h11.send(proceed))

    def _refused_from_head(self, request: EdgeRequest) -> bool:
        try:
            check_request(request, self._server.limits)
        except EarlyAnswer:
            return True
        return False

    def _take_body(self, data: bytes) -> None:
        self._body += data
        limit = self._server.limits.max_body_bytes
        if len(self._body) > limit:
            self._refuse(_too_large(limit))

    def _dispatch(self, *, close: bool) -> None:
        request = self._request
        assert request is not None
        request.body = bytes(self._body)
        self._request, self._body = None, bytearray()
        self._busy = True
        self._held = 0
        self._cancel_timer()
        task = asyncio.get_running_loop().create_task(self._respond(request, close))
        self._server.track(task)

    async def _respond(self, request: EdgeRequest, close: bool) -> None:
        try:
            response = await self._server.handler(request)
        except Exception:  # the pipeline answers everything; this is a last resort
            logger.exception("edge handler failed")
            response = error_response(500, "internal_error", "the edge failed")
        if self._transport is None:
            return
        close = close or self._server.closing or response.header("connection") == "close"
        self._send(response, request.method, close=close)
        connection = self._http.h11
        if close or connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
            self._linger()  # HTTP/1.0, Connection: close, or a body left unread
            return
        self._http.start_next_cycle()
        self._busy = False
        self._held = 0
        self._start_timer(KEEP_ALIVE_SECONDS)
        self._update_reading()
        self._advance()

    def _malformed(self, error: h11.RemoteProtocolError) -> EdgeResponse:
        """The refusal for what h11 (or the strict connection) could not parse."""
        detail = str(error)
        if self._request is not None:  # in the body
            if error.error_status_hint == 431:  # h11's bound on one incomplete event
                message = "a chunk line or the trailer section is too long"
                return error_response(413, "payload_too_large", message)
            return error_response(400, "bad_request", f"malformed request body: {detail:.200}")
        if error.error_status_hint == 431:
            if b"\n" not in self._http.h11.trailing_data[0]:  # still in the request line
                return error_response(414, "uri_too_long", "the request line is too long")
            return error_response(431, "headers_too_large", "the request head is too large")
        if error.error_status_hint == 501:
            return error_response(501, "not_implemented", detail)
        return error_response(400, "bad_request", f"malformed request: {detail:.200}")

    # Answers

    def _refuse(self, response: EdgeResponse) -> None:
        """Answer ``response`` (a refusal) and close: what follows on the connection is not
        read, and cannot be trusted to be read correctly."""
        response.headers += _BYPASS
        self._request, self._body = None, bytearray()
        self._send(response, "GET", close=True)
        self._linger()

    def _send(self, response: EdgeResponse, method: str, *, close: bool) -> None:
        connection = self._http.h11
        head, body = _encode(response, method, close=close)
        try:
            data = connection.send(head)
            if body:
                data += connection.send(h11.Data(data=body))
            data += connection.send(h11.EndOfMessage())
        except h11.LocalProtocolError as error:  # no state to answer in (e.g. h11 gave up)
            logger.warning("no answer sent: %s", error)
            self.close()
            return
        self._write(data)

    def _write(self, data: bytes) -> None:
        if self._transport is not None:
            self._transport.write(data)

    def _linger(self) -> None:
        """Close our side after what was written, then drain the client's for a moment."""
        self._lingering = True
        self._busy = False
        transport = self._transport
        if transport is None:
            return
        if transport.can_write_eof():
            transport.write_eof()
        else:
            transport.close()
        self._update_reading()
        self._start_timer(LINGER_SECONDS)

    def _update_reading(self) -> None:
        """Read unless answers are queued past the high-water mark, or a pipelined request's
        worth of bytes waits while one is handled (reading goes on after a refusal, to drain)."""
        holding = self._busy and self._held > self._server.max_head_bytes
        wanted = self._lingering or (self._writable and not holding)
        transport = self._transport
        if transport is None or wanted == self._reading or transport.is_closing():
            return
        self._reading = wanted
        if wanted:
            transport.resume_reading()
        else:
            transport.pause_reading()

    def _start_timer(self, seconds: float) -> None:
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(seconds, self.close)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class EdgeServer:
    def __init__(self, handler: Handler, *, limits: RequestLimits) -> None:
        self.handler = handler
        self.limits = limits
        self.max_head_bytes = max(
            MIN_HEAD_BYTES, limits.max_target_bytes + limits.max_header_bytes + HEAD_SLACK_BYTES
        )
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


def _encode(response: EdgeResponse, method: str, *, close: bool) -> tuple[h11.Response, bytes]:
    """The answer as h11 sends it, and its body. h11 checks every header (names are tokens,
    values hold no CR, LF or NUL); an answer it refuses becomes a JSON 502."""
    has_body = method != "HEAD" and response.status not in _NO_BODY_STATUSES
    headers = [(n, v) for n, v in response.headers if n not in _FRAMING_HEADERS]
    if response.header("date") is None:
        headers.append(("date", http_date()))
    if has_body:
        headers.append(("content-length", str(len(response.body))))
    if close:
        headers.append(("connection", "close"))
    try:
        head = h11.Response(
            status_code=response.status,
            headers=[(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers],
            reason=_REASONS.get(response.status, b""),
        )
    except (h11.LocalProtocolError, UnicodeEncodeError) as error:
        logger.error("an answer cannot be sent as HTTP/1.1 (%s): sending a 502", error)
        return _encode(_unsendable(), method, close=close)
    return head, response.body if has_body else b""


def _unsendable() -> EdgeResponse:
    message = "the answer could not be sent as HTTP/1.1"
    return error_response(502, "bad_gateway", message, _BYPASS)


def _too_large(limit: int) -> EdgeResponse:
    return error_response(413, "payload_too_large", f"bodies are limited to {limit} bytes")


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    """The ``Date`` header's value, formatted once per second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def client_address(peername: object) -> str | None:
    """The peer's IP address from ``peername`` (a (host, port, ...) tuple for TCP sockets)."""
    if isinstance(peername, tuple) and peername and isinstance(peername[0], str):
        return peername[0]
    return None
