"""The Prometheus registry, its text exposition, and per-request HTTP metrics."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from origin.observability.metrics import (
    CONTENT_TYPE,
    HttpMetrics,
    MetricError,
    Registry,
    cache_requests_counter,
    metrics_endpoint,
    metrics_route,
)
from tests.origin.middleware.apps import client_for, origin_like_app
from tests.support.metrics import samples


def test_counters_and_histograms_render_in_the_prometheus_text_format() -> None:
    registry = Registry(process_collectors=False)
    hits = registry.counter("outpost_things_total", "Things seen.", ("kind",))
    hits.inc(("a",))
    hits.inc(("a",), 2.5)
    hits.inc(("b",))
    latency = registry.histogram("op_seconds", "Op time.", ("op",), buckets=(0.1, 0.5, 1.0))
    for value in (0.05, 0.1, 0.3, 0.7, 3.0):
        latency.observe(value, ("read",))

    parsed = samples(registry.render())
    assert parsed == {
        ("outpost_things_total", (("kind", "a"),)): 3.5,
        ("outpost_things_total", (("kind", "b"),)): 1,
        ("op_seconds_bucket", (("le", "0.1"), ("op", "read"))): 2,  # le is "less or equal"
        ("op_seconds_bucket", (("le", "0.5"), ("op", "read"))): 3,
        ("op_seconds_bucket", (("le", "1.0"), ("op", "read"))): 4,
        ("op_seconds_bucket", (("le", "+Inf"), ("op", "read"))): 5,
        ("op_seconds_count", (("op", "read"),)): 5,
        ("op_seconds_sum", (("op", "read"),)): pytest.approx(4.15),
    }
    assert latency.count(("read",)) == 5
    assert hits.value(("a",)) == 3.5


def test_gauges_go_up_and_down() -> None:
    registry = Registry(process_collectors=False)
    depth = registry.gauge("outpost_depth", "Depth.")
    depth.set(5)
    depth.inc()
    depth.dec(amount=2)
    assert depth.value() == 4
    assert samples(registry.render()) == {("outpost_depth", ()): 4}


def test_the_standard_process_metrics_are_exported() -> None:
    names = {family.name for family in text_string_to_metric_families(Registry().render())}
    assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_info"} <= names


def test_asking_for_a_metric_again_returns_the_same_one() -> None:
    registry = Registry()
    first = registry.counter("x_total", "X.", ("a",))
    first.inc(("1",))
    assert registry.counter("x_total", "X again.", ("a",)) is first
    assert first.value(("1",)) == 1


@pytest.mark.parametrize(
    "conflicting",
    [
        lambda r: r.counter("x_total", "X.", ("b",)),
        lambda r: r.histogram("x_total", "X.", ("a",)),
    ],
)
def test_a_metric_of_another_shape_under_a_taken_name_is_refused(
    conflicting: Callable[[Registry], object],
) -> None:
    registry = Registry()
    registry.counter("x_total", "X.", ("a",))
    with pytest.raises(MetricError, match="another shape"):
        conflicting(registry)


def test_histograms_with_other_buckets_under_a_taken_name_are_refused() -> None:
    registry = Registry()
    registry.histogram("h_seconds", "H.", buckets=(1.0, 2.0))
    with pytest.raises(MetricError, match="another shape"):
        registry.histogram("h_seconds", "H.", buckets=(1.0, 3.0))


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("1starts_with_digit", ()),
        ("has-dash", ()),
        ("ok_total", ("bad-label",)),
        ("ok_total", ("__reserved",)),
        ("ok_total", ("a", "a")),
    ],
)
def test_invalid_names_are_refused(name: str, labels: tuple[str, ...]) -> None:
    with pytest.raises(MetricError):
        Registry().counter(name, "Help.", labels)


def test_misuse_is_refused() -> None:
    registry = Registry()
    counter = registry.counter("c_total", "C.", ("a",))
    with pytest.raises(MetricError, match="cannot go down"):
        counter.inc(("x",), -1)
    with pytest.raises(MetricError, match="takes labels"):
        counter.inc(("x", "y"))
    with pytest.raises(MetricError, match="le"):
        registry.histogram("h_seconds", "H.", ("le",))
    with pytest.raises(MetricError, match="order"):
        registry.histogram("h2_seconds", "H.", buckets=(2.0, 1.0))


def test_the_cache_counter_is_shared_by_everyone_who_asks_for_it() -> None:
    registry = Registry()
    cache_requests_counter(registry).inc(("hit",))
    cache_requests_counter(registry).inc(("miss",))
    cache_requests_counter(registry).inc(("hit",))

    parsed = samples(registry.render())
    assert parsed[("outpost_cache_requests_total", (("result", "hit"),))] == 2
    assert parsed[("outpost_cache_requests_total", (("result", "miss"),))] == 1


async def product(request: Request) -> PlainTextResponse:
    return PlainTextResponse("product")


@pytest.mark.anyio
async def test_requests_are_counted_by_route_template_never_by_raw_path() -> None:
    registry = Registry()
    app = origin_like_app(
        [Route("/api/products/{id:int}", product), metrics_route(registry=registry)],
        observers=[HttpMetrics(registry).observe],
    )
    async with client_for(app) as client:
        for product_id in range(5):
            await client.get(f"/api/products/{product_id}")
        await client.get("/no/such/page")
        await client.request("BREW", "/api/products/1")
        response = await client.get("/metrics")

    assert response.headers["content-type"] == CONTENT_TYPE
    parsed = samples(response.text)
    route = "/api/products/{id}"
    assert (
        parsed[("http_requests_total", (("method", "GET"), ("route", route), ("status", "200")))]
        == 5
    )
    assert (
        parsed[
            ("http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))
        ]
        == 1
    )
    assert (
        parsed[("http_requests_total", (("method", "OTHER"), ("route", route), ("status", "405")))]
        == 1
    )
    assert parsed[("http_request_duration_seconds_count", (("route", route),))] == 6
    assert not any("/api/products/1" in str(key) for key in parsed)


@pytest.mark.anyio
async def test_the_default_endpoint_serves_the_process_registry() -> None:
    from origin.observability.metrics import REGISTRY

    marker = REGISTRY.counter("outpost_test_marker_total", "Seen by the endpoint test.")
    marker.inc()
    app = origin_like_app([Route("/metrics", metrics_endpoint)])
    async with client_for(app) as client:
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert samples(response.text)[("outpost_test_marker_total", ())] >= 1


def test_a_gauge_reports_its_latest_value_per_label_set() -> None:
    registry = Registry(process_collectors=False)
    depth = registry.gauge("queue_depth", "Rows waiting.", ("queue",))

    depth.set(5, ("purge",))
    depth.set(2, ("purge",))

    assert registry.gauge("queue_depth", "Rows waiting.", ("queue",)) is depth
    assert samples(registry.render()) == {("queue_depth", (("queue", "purge"),)): 2}
