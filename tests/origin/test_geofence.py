"""The origin re-checks the geofence on the country it can trust, never on a client's header."""

from __future__ import annotations

import httpx
import pytest

from origin.settings import Settings, SettingsError
from tests.origin.conftest import AppClient, Caller

pytestmark = pytest.mark.anyio

ORDER = {"items": [{"product_id": 1, "quantity": 1}]}


async def order(client: httpx.AsyncClient, key: str, **headers: str) -> httpx.Response:
    return await client.post("/api/orders", json=ORDER, headers={"Idempotency-Key": key, **headers})


async def test_an_embargoed_country_is_refused_everything_but_health_checks(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    caller.becomes("ivan", country="IR")

    refused = await client.get("/api/products/1")
    health = await client.get("/healthz")

    assert refused.status_code == 451
    assert refused.json()["error"]["rule"] == "embargoed-countries"
    assert refused.json()["error"]["policy"] == "outpost-demo"
    assert health.status_code == 200


# template:demo-begin
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


# template:demo-end
# template:demo-begin
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


# template:demo-end
async def test_a_clients_own_country_header_changes_nothing(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    caller.becomes("dora", country=None)

    refused = await order(client, "forged", **{"CF-IPCountry": "DE", "X-Country": "DE"})

    assert refused.status_code == 451
    assert refused.json()["error"]["country"] == "XX"


# template:demo-begin
async def test_a_deployment_may_replace_the_policy(
    app_client: AppClient, seeded_url: str, caller: Caller
) -> None:
    open_policy = '{"policy": "open", "rules": [], "default": {"name": "all", "effect": "allow"}}'
    caller.becomes("dora", country=None)
    policy = Settings.from_mapping({"OUTPOST_GEOFENCE_POLICY": open_policy}).geofence_policy
    async with app_client(seeded_url, geofence_policy=policy) as client:
        placed = await order(client, "open")

    assert placed.status_code == 201


# template:demo-end
def test_a_policy_that_cannot_work_stops_the_origin_at_start() -> None:
    with pytest.raises(SettingsError, match="OUTPOST_GEOFENCE_POLICY"):
        Settings.from_mapping({"OUTPOST_GEOFENCE_POLICY": '{"policy": "x", "rules": "all"}'})
