"""The origin's OpenTelemetry tracing (the ``otel`` extra; imported only when tracing is on).

- the request: :class:`ServerSpans`, the outermost middleware, continues the ``traceparent`` the
  edge sent (or starts a trace) and names the span after the route template once routing has
  chosen one (``GET /api/products/{product_id}``), never the raw path. Its attributes and status
  are ``opentelemetry-instrumentation-asgi``'s (semantic conventions); its middleware itself is
  not used, because it does all its work (attributes, metrics, wrapped ``send``) for requests the
  sampler drops too, which cost a cached read some 40% of its CPU at 10% sampling;
- each SQL statement (``opentelemetry-instrumentation-sqlalchemy``, per engine), each Redis call
  (``opentelemetry-instrumentation-redis``), each outgoing HTTP call
  (``opentelemetry-instrumentation-httpx``);
- log records carry ``trace_id`` and ``span_id`` (the JSON log lines show them);
- spans leave in batches over OTLP/HTTP, configured by the SDK's standard ``OTEL_*`` variables.
  A batch the collector does not take is dropped and counted; the first failure is logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import (
    asgi_getter,
    collect_request_attributes,
    set_status_code,
)
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import get_meter
from opentelemetry.propagate import extract
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.middleware.route_template import route_template
from origin.observability.metrics import Counter, Registry
from shared.trace_context import TraceParent

logger = logging.getLogger("outpost.origin.tracing")

DEFAULT_SERVICE_NAME = "outpost-origin"
# Probes and scrapes would be most of the traces and say nothing.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# The exporter logs every failed batch; we say it once, with what to do (see DroppingExporter).
_QUIETED_LOGGERS = ("opentelemetry.exporter.otlp", "opentelemetry.sdk._shared_internal")


class DroppingExporter(SpanExporter):
    """The OTLP exporter, with failures counted and told once instead of raised or repeated."""

    def __init__(self, inner: SpanExporter, dropped: Counter) -> None:
        self._inner = inner
        self._dropped = dropped
        self._warned = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
            reason = "the collector refused or did not answer"
        except Exception as error:  # whatever the transport raises, spans are all we lose
            result, reason = SpanExportResult.FAILURE, str(error)
        if result is not SpanExportResult.SUCCESS:
            self._dropped.inc(amount=len(spans))
            if not self._warned:
                self._warned = True
                logger.warning(
                    "traces cannot be exported (%s); spans are dropped and counted in "
                    "outpost_trace_spans_dropped_total",
                    reason,
                )
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


class Tracing:
    """The process's tracer provider and what each app wires from it."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._server_tracer = trace.get_tracer("outpost.origin", tracer_provider=provider)
        self._sql_tracer = trace.get_tracer(
            "opentelemetry.instrumentation.sqlalchemy", "", provider
        )
        self._connections = get_meter(__name__).create_up_down_counter(
            "db.client.connections.usage"
        )

    @classmethod
    def start(cls, registry: Registry) -> Tracing:
        """Read the ``OTEL_*`` configuration, install the provider and the instrumentations."""
        dropped = registry.counter(
            "outpost_trace_spans_dropped_total", "Spans the trace collector did not take."
        )
        resource = Resource.create()
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
        provider = TracerProvider(resource=resource)  # the sampler comes from OTEL_TRACES_SAMPLER
        provider.add_span_processor(
            BatchSpanProcessor(DroppingExporter(OTLPSpanExporter(), dropped))
        )
        for name in _QUIETED_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        trace.set_tracer_provider(provider)
        RedisInstrumentor().instrument(tracer_provider=provider)
        HTTPXClientInstrumentor().instrument(tracer_provider=provider)
        _add_trace_ids_to_log_records()
        return cls(provider)

    def middleware(self) -> list[Middleware]:
        """The outermost middleware: one server span per request, named after its route."""
        return [Middleware(ServerSpans, tracer=self._server_tracer)]

    def instrument_engine(self, engine: AsyncEngine) -> None:
        """A span for each SQL statement ``engine`` runs."""
        EngineTracer(self._sql_tracer, engine.sync_engine, self._connections)  # type: ignore[no-untyped-call]

    def current_traceparent(self) -> TraceParent | None:
        """The server span of the request being handled: the span its headers and logs name."""
        return _traceparent(trace.get_current_span().get_span_context())


class ServerSpans:
    """One server span per request, current while the app runs (SQL, Redis and HTTP spans nest
    under it). A request the sampler drops costs a context extraction and a non-recording span:
    attributes are only collected for spans that are recorded, and the instrumentations below
    are suppressed for it."""

    def __init__(self, app: ASGIApp, *, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        span = self.tracer.start_span(
            method,
            context=extract(scope, getter=asgi_getter),  # type: ignore[misc]
            kind=SpanKind.SERVER,
        )
        send_with_span = send
        if span.is_recording():
            span.set_attributes(collect_request_attributes(scope))  # type: ignore[no-untyped-call]
            root_path = scope.get("root_path", "")

            async def send_with_span(message: Message) -> None:
                if message["type"] == "http.response.start":
                    # Routing is done by now; the raw path never becomes the name.
                    route = route_template(scope, root_path)
                    if route is not None:
                        span.update_name(f"{method} {route}")
                        span.set_attribute("http.route", route)
                    set_status_code(span, message["status"])  # type: ignore[no-untyped-call]
                await send(message)

        request_context = trace.set_span_in_context(span)
        if not span.is_recording():
            # Sampling follows the parent: nothing under a dropped request is recorded either, so
            # the SQL, Redis and HTTP instrumentations may skip their work (formatting every
            # command's arguments) altogether.
            request_context = context.set_value(
                _SUPPRESS_INSTRUMENTATION_KEY, True, request_context
            )
        # attach/detach rather than trace.use_span: cheaper than a generator context manager.
        token = context.attach(request_context)
        try:
            await self.app(scope, receive, send_with_span)
        except BaseException as error:
            if span.is_recording():
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            context.detach(token)
            span.end()


def _traceparent(context: trace.SpanContext) -> TraceParent | None:
    if not context.is_valid:
        return None
    return TraceParent(
        format(context.trace_id, "032x"),
        format(context.span_id, "016x"),
        "01" if context.trace_flags.sampled else "00",
    )


def _add_trace_ids_to_log_records() -> None:
    """Every log record made inside a span carries ``trace_id`` and ``span_id``."""
    make_record = logging.getLogRecordFactory()

    def record_with_trace_ids(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return record

    logging.setLogRecordFactory(record_with_trace_ids)
