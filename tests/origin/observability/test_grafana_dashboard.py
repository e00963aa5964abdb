"""The Grafana dashboard (docs/grafana/outpost-origin.json) queries only metrics the origin
exports: a renamed or dropped metric fails here, not as an empty panel in production."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.origin.conftest import Caller

DASHBOARD = Path(__file__).parents[3] / "docs" / "grafana" / "outpost-origin.json"
# What PromQL writes that is not a metric name (functions, aggregations, keywords).
PROMQL_WORDS = frozenset(
    {
        "sum", "avg", "min", "max", "count", "rate", "irate", "increase", "by", "without",
        "histogram_quantile", "on", "ignoring", "group_left", "group_right", "and", "or",
        "unless", "offset", "bool",
    }
)  # fmt: skip
SAMPLE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}

pytestmark = pytest.mark.anyio


def queried_metrics() -> set[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    names = set()
    for target in (target for panel in panels for target in panel["targets"]):
        expr = target["expr"]
        expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
        expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors
        expr = re.sub(r"\b(by|without)\s*\([^)]*\)", "", expr)  # grouping labels
        for word in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
            if word not in PROMQL_WORDS:
                names.add(word)
    return names


def exported_metrics(text: str) -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        suffixes = SAMPLE_SUFFIXES.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)
    return names


def test_the_dashboard_queries_metrics_at_all() -> None:
    assert {"http_requests_total", "outpost_store_degraded_total"} <= queried_metrics()


async def test_every_metric_the_dashboard_queries_is_exported(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    await client.get("/api/products/1")
    caller.becomes("operator", "admin")  # the route table keeps /metrics to administrators
    exported = exported_metrics((await client.get("/metrics")).text)

    assert queried_metrics() - exported == set()
