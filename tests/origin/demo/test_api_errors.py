"""The demo API's error answers, document and metrics: every client mistake is JSON with the right
status, and every route is described."""

from __future__ import annotations

import httpx
import pytest
from openapi_spec_validator import validate

from tests.origin.conftest import AppClient, Caller
from tests.support.metrics import samples

pytestmark = pytest.mark.anyio


async def test_a_wrong_method_is_405_naming_the_allowed_ones(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/products")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


async def test_malformed_json_is_400(client: httpx.AsyncClient, caller: Caller) -> None:
    caller.becomes("bob")
    response = await client.post(
        "/api/orders",
        content=b'{"items": [',
        headers={"Content-Type": "application/json", "Idempotency-Key": "k"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient, caller: Caller) -> None:
    caller.becomes("bob")
    response = await client.post(
        "/api/orders",
        content=b"items=1",
        headers={"Idempotency-Key": "k", "Content-Type": "text/plain"},
    )
    assert response.status_code == 415


async def test_json_of_the_wrong_shape_is_422_with_the_fields_at_fault(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    caller.becomes("bob")
    response = await client.post(
        "/api/orders",
        json={"items": [{"product_id": "one", "quantity": 0}]},
        headers={"Idempotency-Key": "k"},
    )

    assert response.status_code == 422
    fields = {problem["field"] for problem in response.json()["error"]["fields"]}
    assert fields == {"items.0.product_id", "items.0.quantity"}


async def test_a_body_over_the_limit_is_413(
    app_client: AppClient, seeded_url: str, caller: Caller
) -> None:
    caller.becomes("bob")
    async with app_client(seeded_url, max_body_bytes=64) as client:
        response = await client.post(
            "/api/orders",
            json={"items": [{"product_id": 1, "quantity": 1}] * 10},
            headers={"Idempotency-Key": "k"},
        )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_the_openapi_document_describes_every_api_route(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    validate(document)  # raises on any departure from the OpenAPI 3.1 schema
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/healthz",
        "/readyz",
        "/metrics",
        "/.well-known/jwks.json",
        "/auth/register",
        "/auth/token",
        "/auth/refresh",
        "/auth/logout",
        "/auth/me",
        "/api/products",
        "/api/products/{product_id}",
        "/api/orders",
        "/api/orders/{order_id}",
    }
    assert set(document["paths"]["/api/products/{product_id}"]) == {"get", "patch", "delete"}


async def test_metrics_count_requests_by_route_template_and_cache_results(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    await client.get("/api/products/1")
    await client.get("/api/products/1")
    await client.get("/api/products/2")

    caller.becomes("operator", "admin")  # the route table: metrics are for administrators
    metrics = (await client.get("/metrics")).text

    parsed = samples(metrics)
    route = "/api/products/{product_id}"
    labels = (("method", "GET"), ("route", route), ("status", "200"))
    assert parsed[("http_requests_total", labels)] == 3
    assert parsed[("outpost_cache_requests_total", (("result", "hit"),))] == 1
    assert parsed[("outpost_cache_requests_total", (("result", "miss"),))] == 2
    assert "/api/products/1" not in metrics.replace("{product_id}", "")
