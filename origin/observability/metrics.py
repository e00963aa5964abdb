"""Prometheus metrics on ``prometheus_client``: one registry per app, or multiprocess mode.

One worker: each app has its own :class:`Registry` (a ``prometheus_client.CollectorRegistry``
plus the standard process, platform and GC collectors), and ``/metrics`` renders it.

Several workers (``outpost origin --workers N``): the worker supervisor
(:mod:`origin.cli.workers`) gives them a fresh ``PROMETHEUS_MULTIPROC_DIR``, so every value is
written to a file there, and whichever worker answers ``/metrics`` renders all of them together
(``prometheus_client.multiprocess``): one scrape sees the requests of every worker. Process
metrics then carry a ``pid`` label, one set per live worker.

The calling style (``counter.inc(("hit",))``: label values as a tuple, metrics created on first
use and returned again on the next ask) is the project's; the storage, aggregation and text
format are the library's.

Series are labelled by route *template* (``/api/products/{id}``), never by raw path, so the number
of series stays bounded whatever clients request.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import prometheus_client
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from origin.observability.openapi import Answer, ErrorBody, operation

if TYPE_CHECKING:
    from origin.middleware.request_context import CompletedRequest

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Finer than Prometheus' defaults at the low end: origin requests take well under 5 ms.
DEFAULT_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
# One gauge every worker sets at start; in multiprocess mode its series name the live workers.
WORKER_GAUGE = "outpost_worker_up"

# ``*_created`` series double every counter's output for a timestamp nobody here reads.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

# Classic names only: the library also takes UTF-8 ones, which PromQL must then quote.
_CLASSIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")

LabelValues = tuple[str, ...]
GaugeMode = Literal["livesum", "liveall", "livemin", "livemax", "max", "min", "sum", "all"]


class MetricError(ValueError):
    """A metric was defined or used inconsistently (a programming error, not a client's)."""


def multiprocess_dir() -> str | None:
    """The directory every worker writes its values to, when the origin runs several."""
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


class _Metric:
    """One ``prometheus_client`` metric, called with label values as a tuple."""

    def __init__(
        self, metric: Any, label_names: Sequence[str], collectors: CollectorRegistry
    ) -> None:
        self._metric = metric
        self.label_names = tuple(label_names)
        self._collectors = collectors
        # prometheus_client's ``labels()`` checks and converts the values and takes a lock on
        # every call; a child, once made, is the same object for good (nothing here removes one).
        self._children: dict[LabelValues, Any] = {}

    def _sample(self, suffix: str, labels: LabelValues) -> float:
        """This process's value of one sample (what tests and health checks read)."""
        found = self._collectors.get_sample_value(
            self._metric._name + suffix, dict(zip(self.label_names, labels, strict=True))
        )
        return found if found is not None else 0.0

    def _child(self, labels: LabelValues) -> Any:
        child = self._children.get(labels)
        if child is None:
            if len(labels) != len(self.label_names):
                raise MetricError(
                    f"{self._metric._name} takes labels {self.label_names}, "
                    f"got {len(labels)} values"
                )
            child = self._children[labels] = (
                self._metric.labels(*labels) if labels else self._metric
            )
        return child


class Counter(_Metric):
    """A value that only goes up (requests served, cache hits)."""

    def inc(self, labels: LabelValues = (), amount: float = 1.0) -> None:
        if amount < 0:
            raise MetricError(f"{self._metric._name}: a counter cannot go down ({amount})")
        self._child(labels).inc(amount)

    def value(self, labels: LabelValues = ()) -> float:
        return self._sample("_total", labels)


class Gauge(_Metric):
    """A value that goes up and down (connections in use, a queue's depth)."""

    def set(self, value: float, labels: LabelValues = ()) -> None:
        self._child(labels).set(value)

    def inc(self, labels: LabelValues = (), amount: float = 1.0) -> None:
        self._child(labels).inc(amount)

    def dec(self, labels: LabelValues = (), amount: float = 1.0) -> None:
        self._child(labels).dec(amount)

    def value(self, labels: LabelValues = ()) -> float:
        return self._sample("", labels)


class Histogram(_Metric):
    """Observations counted into ``le`` buckets (request durations), with their sum and count."""

    def observe(self, value: float, labels: LabelValues = ()) -> None:
        self._child(labels).observe(value)

    def count(self, labels: LabelValues = ()) -> int:
        return int(self._sample("_count", labels))


class Registry:
    """The metrics of one app, rendered together for ``/metrics``.

    ``process_collectors`` adds the standard ``process_*``, ``python_info`` and ``python_gc_*``
    families (tests that count families leave them out).
    """

    def __init__(self, *, process_collectors: bool = True) -> None:
        self.collectors = CollectorRegistry(auto_describe=True)
        self._metrics: dict[str, tuple[type[_Metric], _Metric, tuple[Any, ...]]] = {}
        self._lock = threading.Lock()
        if process_collectors:
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.collectors.register(collector)

    def counter(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> Counter:
        """The counter ``name``, created on first use; asking again returns the same one."""
        found = self._get_or_create(
            Counter, prometheus_client.Counter, name, help_text, label_names, ()
        )
        assert isinstance(found, Counter)
        return found

    def gauge(
        self,
        name: str,
        help_text: str,
        label_names: Sequence[str] = (),
        *,
        multiprocess_mode: GaugeMode = "livesum",
    ) -> Gauge:
        """The gauge ``name``, created on first use; asking again returns the same one.

        ``multiprocess_mode`` says how workers' values combine (``livesum``: added up over the
        live workers, right for connections in use; ``livemax`` for a shared queue's depth).
        """
        found = self._get_or_create(
            Gauge,
            prometheus_client.Gauge,
            name,
            help_text,
            label_names,
            (("multiprocess_mode", multiprocess_mode),),
        )
        assert isinstance(found, Gauge)
        return found

    def histogram(
        self,
        name: str,
        help_text: str,
        label_names: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        """The histogram ``name``, created on first use; asking again returns the same one."""
        found = self._get_or_create(
            Histogram,
            prometheus_client.Histogram,
            name,
            help_text,
            label_names,
            (("buckets", tuple(buckets)),),
        )
        assert isinstance(found, Histogram)
        return found

    def _get_or_create(
        self,
        kind: type[_Metric],
        library_kind: Any,
        name: str,
        help_text: str,
        label_names: Sequence[str],
        options: tuple[tuple[str, Any], ...],
    ) -> _Metric:
        for checked in (name, *label_names):
            if _CLASSIC_NAME.fullmatch(checked) is None:
                raise MetricError(f"{name}: {checked!r} is not a classic Prometheus name")
        if len(set(label_names)) != len(label_names):
            raise MetricError(f"{name}: duplicate label names {tuple(label_names)}")
        shape = (tuple(label_names), options)
        with self._lock:
            existing = self._metrics.get(name)
            if existing is not None:
                existing_kind, metric, existing_shape = existing
                if existing_kind is not kind or existing_shape != shape:
                    raise MetricError(f"metric {name} is already registered with another shape")
                return metric
            try:
                library_metric = library_kind(
                    name,
                    help_text,
                    labelnames=label_names,
                    registry=self.collectors,
                    **dict(options),
                )
            except ValueError as error:  # invalid names, reserved labels, unsorted buckets
                raise MetricError(f"{name}: {error}") from error
            metric = kind(library_metric, label_names, self.collectors)
            self._metrics[name] = (kind, metric, shape)
            return metric

    def render(self) -> str:
        """The text exposition format 0.0.4: this registry's values, or in multiprocess mode
        every worker's."""
        directory = multiprocess_dir()
        collectors = self.collectors if directory is None else _multiprocess_registry(directory)
        return generate_latest(collectors).decode()


def _multiprocess_registry(directory: str) -> CollectorRegistry:
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    registry.register(_WorkerProcessCollector(directory))
    return registry


class _WorkerProcessCollector(Collector):
    """``process_*`` of every live worker, labelled by ``pid`` (a worker sees only its own)."""

    def __init__(self, directory: str) -> None:
        self._directory = directory

    def collect(self) -> Iterator[Metric]:
        from prometheus_client import multiprocess

        files = multiprocess.MultiProcessCollector(None, self._directory)  # type: ignore[no-untyped-call]
        pids = sorted(_live_worker_pids(files))
        families: dict[str, Metric] = {}
        for pid in pids:
            collector = ProcessCollector(pid=lambda pid=pid: pid, registry=None)  # type: ignore[misc]
            for family in collector.collect():
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": pid}, sample.value)
        yield from families.values()


def _live_worker_pids(collector: Collector) -> set[str]:
    return {
        sample.labels["pid"]
        for family in collector.collect()
        if family.name == WORKER_GAUGE
        for sample in family.samples
    }


REGISTRY = Registry()
"""The process's default registry (commands other than the origin's server use it)."""

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


def mark_worker_started(registry: Registry) -> None:
    """Say this process serves requests (in multiprocess mode: one series per live worker)."""
    registry.gauge(
        WORKER_GAUGE, "1 for each live origin worker process.", multiprocess_mode="liveall"
    ).set(1)


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
