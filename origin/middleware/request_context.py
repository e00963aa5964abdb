"""The outermost origin middleware: who a request is, how it went, and the last line of defence.

Per request it
- settles the request id (``X-Request-ID``, else the ``traceparent`` trace id, else a new one) and
  our span of the W3C trace, stores both in ``scope["state"]`` and echoes them as ``X-Request-ID``
  and ``traceparent`` response headers;
- adds ``Server-Timing`` (``app;dur=...`` plus what handlers added, see ``server_timing``);
- reports a :class:`CompletedRequest` (route template, status, duration) to the access log and
  any observers, e.g. :meth:`origin.observability.metrics.HttpMetrics.observe`;
- turns an exception escaping the app into the JSON 500 of ``origin.errors``, logged with the
  request id: never a traceback to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any, NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.errors import error_response
from origin.middleware.access_log import log_access
from origin.middleware.route_template import UNMATCHED, route_template
from origin.middleware.server_timing import SERVER_TIMING_KEY
from origin.observability.logging import bind_request_id, unbind_request_id
from shared.trace_context import TraceParent, id_hex, identify_request

logger = logging.getLogger("outpost.origin")


class CompletedRequest(NamedTuple):
    """What observers learn about each answered request (a NamedTuple: built on every request)."""

    method: str
    route: str | None
    """The route template that served the request; ``None`` when no route matched."""
    path: str
    status: int
    duration_seconds: float
    request_id: str
    client: str | None

    @property
    def route_label(self) -> str:
        return self.route if self.route is not None else UNMATCHED


Observer = Callable[[CompletedRequest], None]
CurrentTrace = Callable[[], TraceParent | None]
"""The span a tracer already opened for the request (OpenTelemetry's server span), if any."""


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        access_log: bool = True,
        observers: Sequence[Observer] = (),
        current_trace: CurrentTrace | None = None,
    ) -> None:
        self.app = app
        self.current_trace = current_trace
        self.observers: tuple[Observer, ...] = (
            (log_access, *observers) if access_log else tuple(observers)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = perf_counter()
        head = _RequestHead.read(scope["headers"])
        request_id, traceparent = self._identify(head)
        _remember(scope, request_id, traceparent)
        root_path = scope.get("root_path", "")
        exchange = _Exchange(receive, send, scope["state"], request_id, traceparent, head, started)

        token = bind_request_id(request_id)
        try:
            await self._answer_or_fail(scope, receive, exchange)
        finally:
            unbind_request_id(token)

        # Reported after the last byte went out: the bookkeeping costs CPU, not latency.
        if self.observers:
            self._report(scope, root_path, exchange.status, exchange.duration(), request_id)

    def _identify(self, head: _RequestHead) -> tuple[str, str]:
        """The request id and our ``traceparent``, from the client's headers or a tracer's span."""
        request_id, trace = identify_request(head.request_id, head.traceparent, id_hex)
        traced = self.current_trace() if self.current_trace is not None else None
        if traced is not None:
            # A tracer chose this request's span: name that one, so the headers, the logs and
            # the exported trace agree (the request id follows when it is the trace id).
            if request_id == trace.trace_id:
                request_id = traced.trace_id
            trace = traced
        return request_id, trace.header()

    async def _answer_or_fail(self, scope: Scope, receive: Receive, exchange: _Exchange) -> None:
        """Run the app; whatever escapes it, the client gets an answer, never a traceback."""
        request_id = exchange.request_id
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except Exception:
            if exchange.status == 0:
                logger.exception("unhandled error", extra={"request_id": request_id})
                await _answer_500(scope, receive, exchange.send, request_id)
            elif exchange.status != 500:
                # A 500 already sent means an error handler answered (and logged) the exception,
                # as Starlette's always re-raises it. Otherwise the response broke off midway; the
                # server closes the connection when we return without finishing it.
                logger.exception(
                    "error after the response started", extra={"request_id": request_id}
                )
        else:
            if exchange.status == 0:
                logger.error(
                    "the app returned without a response", extra={"request_id": request_id}
                )
                await _answer_500(scope, receive, exchange.send, request_id)

    def _report(
        self, scope: Scope, root_path: str, status: int, duration: float, request_id: str
    ) -> None:
        client = scope.get("client")
        completed = CompletedRequest(
            scope["method"],
            route_template(scope, root_path),
            scope["path"],
            status,
            duration,
            request_id,
            client[0] if client else None,
        )
        for observer in self.observers:
            try:
                observer(completed)
            except Exception:
                # Bookkeeping must never turn an answered request into a failure.
                logger.exception("request observer failed", extra={"request_id": request_id})


async def _answer_500(scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
    response = error_response(
        500, "internal_error", "the server failed to handle this request", request_id=request_id
    )
    await response(scope, receive, send)


class _RequestHead(NamedTuple):
    """What this middleware needs from the request's headers, read in one pass."""

    request_id: str | None
    traceparent: str | None
    has_body: bool
    """A body was announced (``Transfer-Encoding`` or a non-zero ``Content-Length``)."""

    @classmethod
    def read(cls, headers: Sequence[tuple[bytes, bytes]]) -> _RequestHead:
        request_id = traceparent = None
        has_body = False
        for name, value in headers:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
            elif name == b"traceparent":
                traceparent = value.decode("latin-1")
            elif name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
                has_body = True
        return cls(request_id, traceparent, has_body)


def _remember(scope: Scope, request_id: str, traceparent: str) -> None:
    """Store the ids in ``scope["state"]``, where handlers and later layers read them."""
    state = scope.get("state")
    if state is None:
        state = scope["state"] = {}
    state["request_id"] = request_id
    state["traceparent"] = traceparent


class _Exchange:
    """One request's wrapped ``receive`` and ``send``: what went out, when, and the body's fate."""

    __slots__ = (
        "_context_headers",
        "_receive",
        "_send",
        "_state",
        "body_unread",
        "finished",
        "request_id",
        "started",
        "status",
    )

    def __init__(
        self,
        receive: Receive,
        send: Send,
        state: dict[str, Any],
        request_id: str,
        traceparent: str,
        head: _RequestHead,
        started: float,
    ) -> None:
        self.started = started
        self._receive = receive
        self._send = send
        self._state = state
        self.request_id = request_id
        # Validated ids are ASCII: these are the exact header bytes.
        self._context_headers = (
            (b"x-request-id", request_id.encode("ascii")),
            (b"traceparent", traceparent.encode("ascii")),
        )
        self.status = 0
        """The response's status once it started; 0 until then."""
        self.finished = 0.0
        self.body_unread = head.has_body

    def duration(self) -> float:
        """Seconds from the request's arrival to the response's last byte (or now)."""
        return (self.finished or perf_counter()) - self.started

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            self.body_unread = False
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self._add_headers(message)
        elif kind == "http.response.body" and not message.get("more_body", False):
            self.finished = perf_counter()
        await self._send(message)

    def _add_headers(self, start: Message) -> None:
        """The ids, ``Server-Timing`` and, if the body was left unread, ``Connection: close``."""
        total_ms = (perf_counter() - self.started) * 1000.0
        timing = self._state.get(SERVER_TIMING_KEY)
        timing_value = (
            timing.header_value(total_ms) if timing is not None else f"app;dur={total_ms:.2f}"
        )
        headers = start.get("headers")
        if type(headers) is not list:
            headers = start["headers"] = list(headers or ())
        headers += (*self._context_headers, (b"server-timing", timing_value.encode()))
        if self.body_unread and not any(name == b"connection" for name, _ in headers):
            # Answered before reading the body (401, 429, 451...): the unread bytes would be
            # taken for the next request, so this connection cannot be reused.
            headers.append((b"connection", b"close"))
