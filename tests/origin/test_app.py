"""Whatever a client sends, the origin answers with the JSON error body and the right status."""

from __future__ import annotations

import re

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


async def test_no_route_redirects_a_trailing_slash_to_the_host_it_was_reached_by(
    client: httpx.AsyncClient,
) -> None:
    # Every documented route (and the undocumented ones), with a trailing slash, asked by a
    # client that reached the origin under its internal name: a redirect would name that host.
    documented = (await client.get("/openapi.json")).json()["paths"]
    paths = [re.sub(r"\{[^}]+\}", "1", path) for path in documented]
    assert "/auth/register" in paths
    for path in [*paths, "/metrics", "/openapi.json"]:
        response = await client.get(f"{path}/", headers={"Host": "origin.internal:8000"})

        assert response.status_code == 404, path
        assert "location" not in response.headers, path
        assert response.json()["error"]["code"] == "not_found", path
