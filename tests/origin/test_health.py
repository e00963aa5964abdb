"""Liveness says the process answers; readiness says its database and cache answer too."""

from __future__ import annotations

import httpx
import pytest

from tests.origin.conftest import AppClient
from tests.support.ports import closed_port_url

pytestmark = pytest.mark.anyio


async def test_healthz_is_ok_and_never_cached(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_ready_when_every_dependency_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "cache": "ok"}}


async def test_readyz_is_503_naming_a_redis_that_does_not_answer(
    app_client: AppClient, seeded_url: str
) -> None:
    async with app_client(seeded_url, redis_url=closed_port_url("redis")) as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
        product = await client.get("/api/products/1")  # template:demo
        # template:no-demo: product = await client.get("/api/hello")

    assert ready.status_code == 503
    assert ready.json()["error"]["code"] == "not_ready"
    assert set(ready.json()["error"]["failed"]) == {"cache"}
    assert ready.json()["error"]["checks"] == {"database": "ok", "cache": "unavailable"}
    assert alive.status_code == 200
    assert product.status_code == 200, "a dead Redis degrades the origin, it does not stop it"


async def test_readyz_names_no_address_and_no_error_text_of_a_failed_dependency(
    app_client: AppClient, seeded_url: str
) -> None:
    # Public: an internal address, port or exception text would map the deployment for anyone.
    redis_url = closed_port_url("redis")
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    async with app_client(seeded_url, redis_url=redis_url) as client:
        ready = await client.get("/readyz")

    assert ready.status_code == 503
    for leak in ("127.0.0.1", port, "redis://", "Error", "refused", "connect"):
        assert leak not in ready.text, leak
