"""Geofencing at the edge, under the demo policy (shared/policies/geofence.json).

The corpus edge runs in local mode, where ``CF-IPCountry`` stands in for Cloudflare's
geolocation; the lab edge runs in production mode, where that header means nothing.
"""

from __future__ import annotations

import pytest

from tests.data.tokens import load_corpus
from tests.edge.behaviour.conftest import EdgeUnderTest
from tests.edge.support.lab import Lab
from tests.edge.support.tokens import mint  # template:demo

CORPUS = load_corpus()
CUSTOMER = next(token for token in CORPUS.valid if token.name == "es256").token
ADMIN = next(token for token in CORPUS.valid if "admin" in token.roles).token
ORDER = {"items": [{"product_id": 1, "quantity": 1}]}


def _refusal(response_json: dict[str, object]) -> tuple[object, ...]:
    error = response_json["error"]
    assert isinstance(error, dict)
    return error["code"], error["policy"], error["rule"], error["country"]


@pytest.mark.parametrize("country", ["CU", "IR", "KP", "SY"])
def test_embargoed_countries_are_refused_everything_with_451_naming_the_rule(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str, country: str
) -> None:
    path = f"/api/products/{unique}"  # template:demo
    # template:no-demo: path = f"/healthz/{unique}"
    response = corpus_edge.client.get(path, headers={"CF-IPCountry": country})

    assert response.status_code == 451
    assert _refusal(response.json()) == (
        "unavailable_for_legal_reasons",
        "outpost-demo",
        "embargoed-countries",
        country,
    )
    assert response.headers["x-cache"] == "BYPASS"
    assert lab.received(path) == []


# template:demo-begin
@pytest.mark.parametrize("country", ["DE", "FR", "US", "JP", "GB"])
def test_orders_from_countries_the_shop_ships_to_pass(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str, country: str
) -> None:
    path = f"/api/orders/{unique}"
    response = corpus_edge.client.post(
        path, json=ORDER, headers={"Authorization": f"Bearer {CUSTOMER}", "CF-IPCountry": country}
    )

    assert response.status_code == 200
    assert len(lab.received(path)) == 1


# template:demo-end
# template:demo-begin
@pytest.mark.parametrize(
    ("country", "rule"),
    [
        ("BR", "orders-outside-shipping-area"),
        ("IN", "orders-outside-shipping-area"),
        ("XX", "orders-unknown-location"),
        ("T1", "orders-unknown-location"),
        (None, "orders-unknown-location"),
    ],
)
def test_orders_from_elsewhere_are_refused_by_the_rule_that_covers_them(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str, country: str | None, rule: str
) -> None:
    path = f"/api/orders/{unique}"
    headers = {"Authorization": f"Bearer {CUSTOMER}"}
    if country is not None:
        headers["CF-IPCountry"] = country
    response = corpus_edge.client.post(path, json=ORDER, headers=headers)

    assert response.status_code == 451
    assert _refusal(response.json())[2:] == (rule, country or "XX")
    assert lab.received(path) == []


# template:demo-end
# template:demo-begin
@pytest.mark.parametrize("country", ["XX", "T1"])
def test_unknown_locations_and_tor_may_browse_by_an_explicit_rule(
    corpus_edge: EdgeUnderTest, unique: str, country: str
) -> None:
    response = corpus_edge.client.get(
        f"/api/orders/{unique}",
        headers={"Authorization": f"Bearer {CUSTOMER}", "CF-IPCountry": country},
    )

    assert response.status_code == 200


# template:demo-end
# template:demo-begin
@pytest.mark.parametrize(
    ("country", "status"), [("FR", 200), ("DE", 200), ("US", 451), ("CH", 451), ("T1", 451)]
)
def test_catalog_changes_are_made_from_inside_the_eu_only(
    corpus_edge: EdgeUnderTest, unique: str, country: str, status: int
) -> None:
    response = corpus_edge.client.post(
        f"/api/products/{unique}",
        json={},
        headers={"Authorization": f"Bearer {ADMIN}", "CF-IPCountry": country},
    )

    assert response.status_code == status
    if status == 451:
        assert _refusal(response.json())[2] == "catalog-changes-outside-eu"


# template:demo-end
def test_authentication_comes_before_the_geofence(corpus_edge: EdgeUnderTest, unique: str) -> None:
    response = corpus_edge.client.post(
        f"/api/orders/{unique}",  # template:demo
        # template:no-demo: f"/auth/logout/{unique}",
        json=ORDER,
        headers={"CF-IPCountry": "KP"},
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere/{unique}"), ("DELETE", "/healthz/{unique}"), ("PUT", "/auth/me/{unique}")],
    ids=["unknown-path", "unknown-method", "unknown-method-of-a-required-route"],
)
def test_what_the_route_table_does_not_name_goes_to_the_origin_unjudged(
    corpus_edge: EdgeUnderTest, lab: Lab, unique: str, method: str, path: str
) -> None:
    # The origin answers such a request 404 or 405, before anything else: it must not learn the
    # geofence policy (nor be told its token is bad) on the way.
    target = path.format(unique=unique)
    headers = {"CF-IPCountry": "KP", "Authorization": "Bearer not-a-token"}
    response = corpus_edge.client.request(method, target, headers=headers)

    assert response.status_code == 200  # the lab's answer, standing in for the origin's 404/405
    assert len(lab.received(target)) == 1


def test_in_production_mode_cf_ipcountry_is_ignored_and_not_passed_on(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/echo/{unique}"
    response = lab_edge.client.get(path, headers={"CF-IPCountry": "KP"})

    assert response.status_code == 200  # KP would be refused if the header were believed
    assert lab.received(path)[-1].header("cf-ipcountry") is None


# template:demo-begin
def test_in_production_mode_without_geolocation_orders_are_refused_as_unknown(
    lab_edge: EdgeUnderTest, unique: str
) -> None:
    unlocated = lab_edge.launcher.geolocated(None) or {}
    headers = {**unlocated, "CF-IPCountry": "DE"}
    headers["Authorization"] = f"Bearer {mint('alice', 'customer')}"
    response = lab_edge.client.post(f"/api/orders/{unique}", json=ORDER, headers=headers)

    assert response.status_code == 451
    assert _refusal(response.json())[2:] == ("orders-unknown-location", "XX")


# template:demo-end
def test_in_production_mode_the_runtimes_geolocation_refuses_and_a_forged_header_cannot_help(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/healthz/{unique}"
    located = lab_edge.launcher.geolocated("KP")
    response = lab_edge.client.get(path, headers={**(located or {}), "CF-IPCountry": "DE"})

    if located is None:
        # No geolocation of its own (the CPython edge): no country, and the forged one is ignored.
        assert response.status_code == 200
        assert len(lab.received(path)) == 1
    else:
        assert response.status_code == 451
        assert _refusal(response.json()) == (
            "unavailable_for_legal_reasons",
            "outpost-demo",
            "embargoed-countries",
            "KP",
        )
        assert lab.received(path) == []


# template:demo-begin
def test_in_production_mode_the_runtimes_geolocation_admits_and_a_forged_header_cannot_refuse(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = f"/api/orders/{unique}"
    located = lab_edge.launcher.geolocated("DE")
    headers = {**(located or {}), "CF-IPCountry": "KP"}
    headers["Authorization"] = f"Bearer {mint('alice', 'customer')}"
    response = lab_edge.client.post(path, json=ORDER, headers=headers)

    if located is None:
        assert response.status_code == 451
        assert _refusal(response.json())[2:] == ("orders-unknown-location", "XX")
    else:
        assert response.status_code == 200
        assert len(lab.received(path)) == 1
        assert lab.received(path)[0].header("cf-ipcountry") is None


# template:demo-end
