"""Whatever a client sends, the origin answers with the JSON error body and the right status."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_an_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/thing")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


async def test_every_response_carries_a_request_id_and_server_timing(
    client: httpx.AsyncClient,
) -> None:
    path = "/api/products/1"  # template:demo
    # template:no-demo: path = "/api/hello"
    response = await client.get(path, headers={"X-Request-ID": "req-abc-123"})

    assert response.headers["x-request-id"] == "req-abc-123"
    assert response.headers["server-timing"].startswith("app;dur=")
