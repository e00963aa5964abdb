"""The Prometheus registry, its text exposition, and per-request HTTP metrics."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
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


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse with the reference Prometheus parser: what a scraper would see."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            assert isinstance(sample, Sample)
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_counters_render_help_type_and_one_line_per_label_set() -> None:
    registry = Registry()
    hits = registry.counter("outpost_things_total", "Things seen.", ("kind",))
    hits.inc(("a",))
    hits.inc(("a",), 2.5)
    hits.inc(("b",))

    assert registry.render() == (
        "# HELP outpost_things_total Things seen.\n"
        "# TYPE outpost_things_total counter\n"
        'outpost_things_total{kind="a"} 3.5\n'
        'outpost_things_total{kind="b"} 1\n'
    )


def test_help_text_and_label_values_are_escaped() -> None:
    registry = Registry()
    counter = registry.counter("odd_total", "Back\\slash and\nnewline.", ("value",))
    counter.inc(('quote " back \\ line \n end',))

    text = registry.render()
    assert "# HELP odd_total Back\\\\slash and\\nnewline.\n" in text
    assert 'odd_total{value="quote \\" back \\\\ line \\n end"} 1\n' in text
    assert samples(text) == {("odd_total", (("value", 'quote " back \\ line \n end'),)): 1.0}


def test_histograms_have_cumulative_buckets_sum_and_count() -> None:
    registry = Registry()
    latency = registry.histogram("op_seconds", "Op time.", ("op",), buckets=(0.1, 0.5, 1.0))
    for value in (0.05, 0.1, 0.3, 0.7, 3.0):
        latency.observe(value, ("read",))

    text = registry.render()
    assert 'op_seconds_bucket{op="read",le="0.1"} 2\n' in text  # le is "less or equal"
    assert 'op_seconds_bucket{op="read",le="0.5"} 3\n' in text
    assert 'op_seconds_bucket{op="read",le="1"} 4\n' in text
    assert 'op_seconds_bucket{op="read",le="+Inf"} 5\n' in text
    parsed = samples(text)
    assert math.isclose(parsed[("op_seconds_sum", (("op", "read"),))], 4.15)
    assert parsed[("op_seconds_count", (("op", "read"),))] == 5
    assert latency.count(("read",)) == 5


def test_families_render_in_name_order_and_an_empty_registry_renders_nothing() -> None:
    registry = Registry()
    assert registry.render() == ""
    registry.counter("b_total", "B.").inc()
    registry.histogram("a_seconds", "A.", buckets=(1.0,)).observe(0.5)

    names = [family.name for family in text_string_to_metric_families(registry.render())]
    assert names == ["a_seconds", "b"]  # the parser drops _total from counter family names


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
    with pytest.raises(MetricError, match="reserved"):
        registry.histogram("h_seconds", "H.", ("le",))
    with pytest.raises(MetricError, match="increasing"):
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
    registry = Registry()
    depth = registry.gauge("queue_depth", "Rows waiting.", ("queue",))

    depth.set(5, ("purge",))
    depth.set(2, ("purge",))

    assert registry.gauge("queue_depth", "Rows waiting.", ("queue",)) is depth
    assert registry.render() == (
        '# HELP queue_depth Rows waiting.\n# TYPE queue_depth gauge\nqueue_depth{queue="purge"} 2\n'
    )
