"""The origin's geofence on the demo shop's routes: where orders may come from, what a request
nobody vouched for may do, and a deployment's own policy."""

from __future__ import annotations

import httpx
import pytest

from origin.settings import Settings
from tests.origin.conftest import AppClient, Caller, order

pytestmark = pytest.mark.anyio


async def test_orders_come_from_where_the_shop_ships(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    caller.becomes("uma", country="US")
    shipped = await order(client, "us")
    caller.becomes("bruno", country="BR")
    refused = await order(client, "br")

    assert shipped.status_code == 201
    assert refused.status_code == 451
    assert refused.json()["error"]["rule"] == "orders-outside-shipping-area"


async def test_a_request_nobody_vouched_for_may_browse_but_not_order(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    caller.becomes("dora", country=None)  # e.g. a bearer token sent straight to the origin

    browse = await client.get("/api/products/1")
    refused = await order(client, "direct")

    assert browse.status_code == 200
    assert refused.status_code == 451
    assert refused.json()["error"]["rule"] == "orders-unknown-location"
    assert refused.json()["error"]["country"] == "XX"


async def test_a_deployment_may_replace_the_policy(
    app_client: AppClient, seeded_url: str, caller: Caller
) -> None:
    open_policy = '{"policy": "open", "rules": [], "default": {"name": "all", "effect": "allow"}}'
    caller.becomes("dora", country=None)
    policy = Settings.from_mapping({"OUTPOST_GEOFENCE_POLICY": open_policy}).geofence_policy
    async with app_client(seeded_url, geofence_policy=policy) as client:
        placed = await order(client, "open")

    assert placed.status_code == 201
