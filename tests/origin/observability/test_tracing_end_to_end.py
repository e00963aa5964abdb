# template:demo-only
"""One trace from the edge through the origin to the database and Redis, received by a real
OTLP/HTTP receiver (it reads the demo's products)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import anyio
import httpx
import pytest

from tests.edge.support.launchers import CPythonLauncher
from tests.edge.support.origin_server import EDGE_KEY_ID, EDGE_SECRET
from tests.edge.support.tokens import AUDIENCE, ISSUER
from tests.origin.cli.test_serve import running, wait_for
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan, traced_origin_environment
from tests.support.ports import free_port

PRODUCT_ROUTE_SPAN = "GET /api/products/{product_id}"

pytestmark = pytest.mark.anyio


def descends_from(span: ReceivedSpan, ancestor: ReceivedSpan, spans: list[ReceivedSpan]) -> bool:
    by_id = {found.span_id: found for found in spans}
    parent = by_id.get(span.parent_span_id)
    while parent is not None:
        if parent.span_id == ancestor.span_id:
            return True
        parent = by_id.get(parent.parent_span_id)
    return False


def is_sql(span: ReceivedSpan) -> bool:
    return span.attributes.get("db.system") in ("sqlite", "postgresql") or span.attributes.get(
        "db.system.name"
    ) in ("sqlite", "postgresql")


def is_redis(span: ReceivedSpan) -> bool:
    return "redis" in (span.attributes.get("db.system"), span.attributes.get("db.system.name"))


def complete(spans: list[ReceivedSpan]) -> bool:
    names = {span.name for span in spans}
    return (
        PRODUCT_ROUTE_SPAN in names and any(map(is_sql, spans)) and sum(map(is_redis, spans)) >= 2
    )


def through_the_edge(
    receiver: OtlpReceiver, origin_env: dict[str, str], trace_id: str
) -> tuple[httpx.Response, list[ReceivedSpan], str]:
    """Start the origin (a real ``outpost origin``) and the CPython edge in front of it, send
    one request with ``trace_id``: the answer, the spans received, the origin's output."""
    port = free_port()
    origin_url = f"http://127.0.0.1:{port}"
    edge_env = {
        "ORIGIN_URL": origin_url,
        "EDGE_MODE": "local",
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "EDGE_ASSERTION_SECRET": EDGE_SECRET,
        "EDGE_ASSERTION_KEY_ID": EDGE_KEY_ID,
    }
    with (
        running(["origin", "--port", str(port)], origin_env) as origin,
        CPythonLauncher().start(edge_env) as edge_url,
    ):
        wait_for(f"{origin_url}/healthz")
        response = httpx.get(
            f"{edge_url}/api/products/1",
            headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
            timeout=10,
        )
        spans = receiver.wait_for(trace_id, complete)
        origin.terminate()
        output, _ = origin.communicate(timeout=30)
    return response, spans, output


async def test_one_trace_crosses_the_edge_the_origin_the_database_and_redis(
    receiver: OtlpReceiver,
    seeded_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    env = {
        **traced_origin_environment(receiver.url, tmp_path),
        "DATABASE_URL": seeded_url,
        "REDIS_URL": redis_url,
        "OUTPOST_REDIS_PREFIX": redis_prefix,
        "OUTPOST_EDGE_SECRETS": f"{EDGE_KEY_ID}:{EDGE_SECRET}",
        "OUTPOST_JWT_ISSUER": ISSUER,
        "OUTPOST_JWT_AUDIENCE": AUDIENCE,
    }
    trace_id = secrets.token_hex(16)
    response, spans, output = await anyio.to_thread.run_sync(
        through_the_edge, receiver, env, trace_id
    )

    assert response.status_code == 200, response.text
    assert complete(spans), [(span.name, span.attributes) for span in spans]
    (request_span,) = [span for span in spans if span.name == PRODUCT_ROUTE_SPAN]
    assert request_span.service == "outpost-origin"
    assert request_span.attributes["http.route"] == "/api/products/{product_id}"
    assert request_span.parent_span_id  # the edge's span: the trace was continued, not restarted
    work = [span for span in spans if is_sql(span) or is_redis(span)]
    assert all(descends_from(span, request_span, spans) for span in work)
    # The origin's own log lines for the request name the same trace and its span.
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "outpost.access"]
    assert {"trace_id": trace_id, "span_id": request_span.span_id}.items() <= access[-1].items()
