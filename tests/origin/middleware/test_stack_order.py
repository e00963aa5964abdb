"""The stack in the origin's order: what the body limit refuses is still identified and counted."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from origin.observability.metrics import HttpMetrics, Registry
from tests.origin.middleware.apps import capture_json_logs, client_for, origin_like_app

pytestmark = pytest.mark.anyio


async def upload(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


async def test_a_refused_body_is_still_identified_timed_logged_and_counted() -> None:
    registry = Registry()
    app = origin_like_app(
        [Route("/upload", upload, methods=["POST"])],
        observers=[HttpMetrics(registry).observe],
        max_body_bytes=10,
    )
    with capture_json_logs("outpost.access") as logs:
        async with client_for(app) as client:
            accepted = await client.post("/upload", content=b"x" * 10)
            refused = await client.post("/upload", content=b"x" * 11, headers={"X-Request-ID": "r"})

    assert (accepted.status_code, accepted.text) == (200, "10")
    assert refused.status_code == 413
    assert refused.headers["x-request-id"] == "r"
    assert refused.headers["server-timing"].startswith("app;dur=")
    assert [(line["status"], line["route"]) for line in logs.lines()] == [
        (200, "/upload"),
        (413, "/upload"),
    ]
    counted = {
        (sample.labels["status"], sample.labels["route"]): sample.value
        for family in text_string_to_metric_families(registry.render())
        for sample in family.samples
        if sample.name == "http_requests_total"
    }
    # The body limit answers before routing, so the 413 has no route template.
    assert counted == {("200", "/upload"): 1, ("413", "unmatched"): 1}
