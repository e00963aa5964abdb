"""The pipeline's last line of defence: a failure inside the edge is a JSON 500 with the request
id, never a traceback, and it still carries X-Cache and Server-Timing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from edge.config import EdgeConfig
from edge.http import EdgeRequest, Headers
from edge.pipeline import EdgePipeline
from edge.ports import Runtime
from edge.runtime.cpython.runtime import cpython_runtime

pytestmark = pytest.mark.anyio
CONFIG = EdgeConfig.from_env({"ORIGIN_URL": "http://127.0.0.1:9", "EDGE_MODE": "local"})


class BrokenCache:
    """A response cache whose backend fails (the runtime's cache service is down)."""

    async def get(self, key: str) -> bytes | None:
        raise RuntimeError("cache backend unavailable: do not leak this")

    async def put(self, key: str, value: bytes, ttl_seconds: float) -> None:
        raise RuntimeError("cache backend unavailable")

    async def delete(self, key: str) -> None:
        raise RuntimeError("cache backend unavailable")


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    async with cpython_runtime(CONFIG) as opened:
        yield opened


async def test_an_internal_failure_is_a_json_500_without_details(runtime: Runtime) -> None:
    pipeline = EdgePipeline(CONFIG, replace(runtime, cache=BrokenCache()))

    response = await pipeline.handle(
        EdgeRequest("GET", "/api/products", Headers([("x-request-id", "req-1")]))
    )

    assert response.status == 500
    assert json.loads(response.body) == {
        "error": {
            "code": "internal_error",
            "message": "the edge failed to handle this request",
            "request_id": "req-1",
        }
    }
    assert response.header("x-cache") == "BYPASS"
    assert (response.header("server-timing") or "").startswith("edge;dur=")


async def test_an_unreachable_origin_is_a_502_not_a_failure_of_the_edge(
    runtime: Runtime,
) -> None:
    pipeline = EdgePipeline(CONFIG, runtime)

    response = await pipeline.handle(EdgeRequest("GET", "/api/products", Headers()))

    assert response.status == 502
    assert json.loads(response.body)["error"]["code"] == "bad_gateway"
