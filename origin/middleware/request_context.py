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
from secrets import token_hex
from time import perf_counter
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.errors import error_response
from origin.middleware.access_log import log_access
from origin.middleware.route_template import UNMATCHED, route_template
from origin.middleware.server_timing import SERVER_TIMING_KEY
from origin.observability.logging import bind_request_id, unbind_request_id
from shared.trace_context import TraceParent, identify_request

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
        request_id_header = traceparent_header = None
        body_unread = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id_header = value.decode("latin-1")
            elif name == b"traceparent":
                traceparent_header = value.decode("latin-1")
            elif name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
                body_unread = True
        request_id, trace = identify_request(request_id_header, traceparent_header, token_hex)
        traced = self.current_trace() if self.current_trace is not None else None
        if traced is not None:
            # A tracer chose this request's span: name that one, so the headers, the logs and
            # the exported trace agree (the request id follows when it is the trace id).
            if request_id == trace.trace_id:
                request_id = traced.trace_id
            trace = traced
        traceparent = trace.header()
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = request_id
        state["traceparent"] = traceparent
        root_path = scope.get("root_path", "")
        # Validated ids are ASCII: these are the exact header bytes.
        id_header = (b"x-request-id", request_id.encode("ascii"))
        trace_header = (b"traceparent", traceparent.encode("ascii"))

        status = 0
        finished = 0.0

        async def receive_tracking_body() -> Message:
            nonlocal body_unread
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_unread = False
            return message

        async def send_with_context(message: Message) -> None:
            nonlocal status, finished
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                total_ms = (perf_counter() - started) * 1000.0
                timing = state.get(SERVER_TIMING_KEY)
                timing_value = (
                    timing.header_value(total_ms)
                    if timing is not None
                    else f"app;dur={total_ms:.2f}"
                )
                headers = message.get("headers")
                if type(headers) is not list:
                    headers = message["headers"] = list(headers or ())
                headers += (id_header, trace_header, (b"server-timing", timing_value.encode()))
                if body_unread and not any(name == b"connection" for name, _ in headers):
                    # Answered before reading the body (401, 429, 451...): the unread bytes
                    # would be taken for the next request, so this connection cannot be reused.
                    headers.append((b"connection", b"close"))
            elif kind == "http.response.body" and not message.get("more_body", False):
                finished = perf_counter()
            await send(message)

        token = bind_request_id(request_id)
        try:
            await self.app(scope, receive_tracking_body, send_with_context)
        except Exception:
            if status == 0:
                logger.exception("unhandled error", extra={"request_id": request_id})
                await _answer_500(scope, receive, send_with_context, request_id)
            elif status != 500:
                # A 500 already sent means an error handler answered (and logged) the exception,
                # as Starlette's always re-raises it. Otherwise the response broke off midway; the
                # server closes the connection when we return without finishing it.
                logger.exception(
                    "error after the response started", extra={"request_id": request_id}
                )
        else:
            if status == 0:
                logger.error(
                    "the app returned without a response", extra={"request_id": request_id}
                )
                await _answer_500(scope, receive, send_with_context, request_id)
        finally:
            unbind_request_id(token)

        # Reported after the last byte went out: the bookkeeping costs CPU, not latency.
        if self.observers:
            self._report(
                scope, root_path, status, (finished or perf_counter()) - started, request_id
            )

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
