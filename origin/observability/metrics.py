"""A small, dependency-free Prometheus registry: counters, gauges, histograms, text format 0.0.4.

Each process has its own registry. Run Hypercorn with several workers and each worker counts only
the requests it served: Prometheus scraping ``/metrics`` sees whichever worker answered. Scrape
each worker separately (one port each) or run one worker per container; this module deliberately
does no cross-process aggregation.

Series are labelled by route *template* (``/api/products/{id}``), never by raw path, so the number
of series stays bounded whatever clients request.
"""

from __future__ import annotations

import math
import re
import threading
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from origin.observability.openapi import Answer, ErrorBody, operation

if TYPE_CHECKING:
    from origin.middleware.request_context import CompletedRequest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Finer than Prometheus' defaults at the low end: origin requests take well under 5 ms.
DEFAULT_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

LabelValues = tuple[str, ...]


class MetricError(ValueError):
    """A metric was defined or used inconsistently (a programming error, not a client's)."""


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(
        f'{name}="{escape_label_value(value)}"' for name, value in zip(names, values, strict=True)
    )
    return "{" + pairs + "}"


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, label_names: Sequence[str]) -> None:
        if _METRIC_NAME.fullmatch(name) is None:
            raise MetricError(f"invalid metric name {name!r}")
        for label in label_names:
            if _LABEL_NAME.fullmatch(label) is None or label.startswith("__"):
                raise MetricError(f"invalid label name {label!r} for {name}")
        if len(set(label_names)) != len(label_names):
            raise MetricError(f"duplicate label names for {name}: {label_names}")
        self.name = name
        self.help = help_text
        self.label_names = tuple(label_names)
        self._lock = threading.Lock()  # sync endpoints run in a thread pool

    def _check(self, labels: LabelValues) -> None:
        if len(labels) != len(self.label_names):
            raise MetricError(
                f"{self.name} takes labels {self.label_names}, got {len(labels)} values"
            )

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {escape_help(self.help)}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> list[str]:
        raise NotImplementedError


class _ValueMetric(_Metric):
    """One number per label set (counters and gauges)."""

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, label_names)
        self._values: dict[LabelValues, float] = {}

    def value(self, labels: LabelValues = ()) -> float:
        return self._values.get(labels, 0.0)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [
            f"{self.name}{format_labels(self.label_names, labels)} {format_value(value)}"
            for labels, value in items
        ]


class Counter(_ValueMetric):
    """A value that only goes up (requests served, cache hits)."""

    kind = "counter"

    def inc(self, labels: LabelValues = (), amount: float = 1.0) -> None:
        if amount < 0:
            raise MetricError(f"{self.name}: a counter cannot go down ({amount})")
        with self._lock:
            current = self._values.get(labels)
            if current is None:
                self._check(labels)
                current = 0.0
            self._values[labels] = current + amount


class Gauge(_ValueMetric):
    """A value that goes up and down, set to what it is now (a queue's depth, an age)."""

    kind = "gauge"

    def set(self, value: float, labels: LabelValues = ()) -> None:
        with self._lock:
            if labels not in self._values:
                self._check(labels)
            self._values[labels] = value


class _HistogramSeries:
    __slots__ = ("counts", "sum")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * (buckets + 1)  # the last one is +Inf
        self.sum = 0.0


class Histogram(_Metric):
    """Observations counted into ``le`` buckets (request durations), with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        label_names: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        if "le" in label_names:
            raise MetricError(f"{name}: 'le' is reserved for histogram buckets")
        bounds = tuple(float(bound) for bound in buckets if not math.isinf(bound))
        if not bounds or list(bounds) != sorted(set(bounds)):
            raise MetricError(f"{name}: buckets must be increasing and not empty, got {buckets}")
        super().__init__(name, help_text, label_names)
        self.bounds = bounds
        self._series: dict[LabelValues, _HistogramSeries] = {}

    def observe(self, value: float, labels: LabelValues = ()) -> None:
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                self._check(labels)
                series = self._series[labels] = _HistogramSeries(len(self.bounds))
            # bisect_left: a value equal to a bound belongs to that bucket (le = less or equal).
            series.counts[bisect_left(self.bounds, value)] += 1
            series.sum += value

    def count(self, labels: LabelValues = ()) -> int:
        series = self._series.get(labels)
        return sum(series.counts) if series is not None else 0

    def samples(self) -> list[str]:
        with self._lock:
            snapshot = sorted(
                (labels, list(series.counts), series.sum) for labels, series in self._series.items()
            )
        names = (*self.label_names, "le")
        lines = []
        for labels, counts, total in snapshot:
            cumulative = 0
            for bound, count in zip((*self.bounds, math.inf), counts, strict=True):
                cumulative += count
                bucket_labels = format_labels(names, (*labels, format_value(bound)))
                lines.append(f"{self.name}_bucket{bucket_labels} {cumulative}")
            plain = format_labels(self.label_names, labels)
            lines.append(f"{self.name}_sum{plain} {format_value(total)}")
            lines.append(f"{self.name}_count{plain} {cumulative}")
        return lines


class Registry:
    """The metrics of one process, rendered together for ``/metrics``."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._lock = threading.Lock()

    def counter(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> Counter:
        """The counter ``name``, created on first use; asking again returns the same one."""
        metric = self._register(Counter(name, help_text, label_names))
        assert isinstance(metric, Counter)
        return metric

    def gauge(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> Gauge:
        """The gauge ``name``, created on first use; asking again returns the same one."""
        metric = self._register(Gauge(name, help_text, label_names))
        assert isinstance(metric, Gauge)
        return metric

    def histogram(
        self,
        name: str,
        help_text: str,
        label_names: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        """The histogram ``name``, created on first use; asking again returns the same one."""
        metric = self._register(Histogram(name, help_text, label_names, buckets))
        assert isinstance(metric, Histogram)
        return metric

    def _register(self, metric: _Metric) -> _Metric:
        with self._lock:
            existing = self._metrics.get(metric.name)
            if existing is None:
                self._metrics[metric.name] = metric
                return metric
        same = type(existing) is type(metric) and existing.label_names == metric.label_names
        if isinstance(metric, Histogram):
            same = same and isinstance(existing, Histogram) and existing.bounds == metric.bounds
        if not same:
            raise MetricError(f"metric {metric.name} is already registered with another shape")
        return existing

    def render(self) -> str:
        """The text exposition format 0.0.4 (families in name order, ending with a newline)."""
        with self._lock:
            metrics = sorted(self._metrics.values(), key=lambda metric: metric.name)
        lines: list[str] = []
        for metric in metrics:
            lines.extend(metric.header())
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n" if lines else ""


REGISTRY = Registry()
"""The process's default registry: what :data:`metrics_endpoint` serves."""

_KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)


class HttpMetrics:
    """``http_requests_total{method,route,status}`` and ``http_request_duration_seconds{route}``.

    Pass :meth:`observe` to the request-context middleware as an observer.
    """

    def __init__(self, registry: Registry = REGISTRY) -> None:
        self.requests = registry.counter(
            "http_requests_total", "HTTP requests answered.", ("method", "route", "status")
        )
        self.duration = registry.histogram(
            "http_request_duration_seconds",
            "Time from receiving a request to sending its last byte.",
            ("route",),
        )

    def observe(self, request: CompletedRequest) -> None:
        route = request.route_label
        # Clients choose methods freely; unknown ones share a label to keep series bounded.
        method = request.method if request.method in _KNOWN_METHODS else "OTHER"
        self.requests.inc((method, route, str(request.status)))
        self.duration.observe(request.duration_seconds, (route,))


def cache_requests_counter(registry: Registry = REGISTRY) -> Counter:
    """``outpost_cache_requests_total{result}``: each lookup as ``hit``, ``miss`` or ``bypass``.

    cache_requests = cache_requests_counter()
    cache_requests.inc(("hit",))
    """
    return registry.counter(
        "outpost_cache_requests_total",
        "Response cache lookups by result (hit, miss, bypass).",
        ("result",),
    )


Endpoint = Callable[[Request], Awaitable[Response]]


def metrics_endpoint_for(registry: Registry) -> Endpoint:
    """A Starlette endpoint serving ``registry`` in the Prometheus text format."""

    @operation(
        summary="Metrics in the Prometheus text format",
        responses={200: Answer(str, media_type=CONTENT_TYPE), 503: ErrorBody},
        tags=["operations"],
    )
    async def serve_metrics(request: Request) -> Response:
        """This process's counters and histograms (each worker counts its own requests)."""
        return Response(registry.render(), media_type=CONTENT_TYPE)

    return serve_metrics


metrics_endpoint = metrics_endpoint_for(REGISTRY)
"""The Starlette endpoint serving the default registry."""


def metrics_route(
    path: str = "/metrics", registry: Registry = REGISTRY, methods: Iterable[str] = ("GET",)
) -> Route:
    """The ``/metrics`` route (who may read it is the route table's business)."""
    return Route(path, metrics_endpoint_for(registry), methods=list(methods))
