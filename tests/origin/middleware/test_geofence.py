"""The origin re-checks the geofence on the country it can trust, never on a client's header."""

from __future__ import annotations

import httpx  # template:demo
import pytest

from origin.settings import Settings, SettingsError
from tests.origin.conftest import Caller, order  # template:demo

pytestmark = pytest.mark.anyio


# template:demo-begin
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


# template:demo-end


# template:demo-begin
async def test_a_clients_own_country_header_changes_nothing(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    caller.becomes("dora", country=None)

    refused = await order(client, "forged", **{"CF-IPCountry": "DE", "X-Country": "DE"})

    assert refused.status_code == 451
    assert refused.json()["error"]["country"] == "XX"


# template:demo-end


def test_a_policy_that_cannot_work_stops_the_origin_at_start() -> None:
    with pytest.raises(SettingsError, match="OUTPOST_GEOFENCE_POLICY"):
        Settings.from_mapping({"OUTPOST_GEOFENCE_POLICY": '{"policy": "x", "rules": "all"}'})
