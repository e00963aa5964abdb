# template:demo-only
"""``/readyz`` stays ready while purges queue, and shows how long the oldest has waited (through
the demo shop's routes)."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from tests.origin.conftest import AppClient, Caller

pytestmark = pytest.mark.anyio

# Cloudflare's token and zone set: writes record purges.
CLOUDFLARE = {"cloudflare_api_token": SecretStr("token"), "cloudflare_zone_id": "zone"}


async def test_readiness_shows_the_age_of_the_oldest_queued_purge_and_stays_ready(
    app_client: AppClient, seeded_url: str, caller: Caller
) -> None:
    async with app_client(seeded_url, **CLOUDFLARE) as client:
        empty = await client.get("/readyz")
        caller.becomes("ada", "admin")
        assert (await client.patch("/api/products/3", json={"stock": 5})).status_code == 200
        await asyncio.sleep(0.3)  # nobody delivers it: no purger runs
        queued = await client.get("/readyz")

    assert empty.status_code == 200
    assert empty.json()["purge_queue_oldest_seconds"] == 0.0
    assert queued.status_code == 200
    assert queued.json()["status"] == "ready"
    assert queued.json()["purge_queue_oldest_seconds"] >= 0.2


async def test_without_cloudflare_readiness_says_nothing_of_purges(
    app_client: AppClient, seeded_url: str
) -> None:
    async with app_client(seeded_url) as client:
        ready = await client.get("/readyz")

    assert "purge_queue_oldest_seconds" not in ready.json()
