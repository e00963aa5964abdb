"""The origin's OpenTelemetry tracing (the ``otel`` extra; imported only when tracing is on).

- the request: ``opentelemetry-instrumentation-asgi`` as the outermost middleware continues the
  ``traceparent`` the edge sent (or starts a trace); the span is named after the route template
  once routing has chosen one (``GET /api/products/{product_id}``), never the raw path;
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

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import get_meter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.util.http import ExcludeList
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.middleware.route_template import route_template
from origin.observability.metrics import Counter, Registry
from shared.trace_context import TraceParent

logger = logging.getLogger("outpost.origin.tracing")

DEFAULT_SERVICE_NAME = "outpost-origin"
# Probes and scrapes would be most of the traces and say nothing.
UNTRACED_PATHS = ExcludeList(["/healthz$", "/readyz$", "/metrics$"])
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
        return [
            Middleware(
                OpenTelemetryMiddleware,
                excluded_urls=UNTRACED_PATHS,
                default_span_details=_method_only,
                tracer_provider=self.provider,
                exclude_spans=["receive", "send"],
            ),
            Middleware(SpanNamedByRoute),
        ]

    def instrument_engine(self, engine: AsyncEngine) -> None:
        """A span for each SQL statement ``engine`` runs."""
        EngineTracer(self._sql_tracer, engine.sync_engine, self._connections)  # type: ignore[no-untyped-call]

    def current_traceparent(self) -> TraceParent | None:
        """The server span of the request being handled: the span its headers and logs name."""
        return _traceparent(trace.get_current_span().get_span_context())


class SpanNamedByRoute:
    """Renames the server span after the route template as the response starts: routing is
    done by then, and the span ends with the response's last byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        if scope["type"] != "http" or not span.is_recording():
            await self.app(scope, receive, send)
            return
        root_path = scope.get("root_path", "")

        async def send_naming_the_span(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = route_template(scope, root_path)
                if route is None:
                    span.update_name(scope["method"])  # no route: no raw path either
                else:
                    span.update_name(f"{scope['method']} {route}")
                    span.set_attribute("http.route", route)
            await send(message)

        await self.app(scope, receive, send_naming_the_span)


def _method_only(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The span's name until routing is done: never the raw path (unbounded, and private)."""
    return str(scope.get("method", "HTTP")), {}


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
