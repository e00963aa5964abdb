"""Geofence policies: parsing the policy document and deciding, rule by rule, by location."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.geofence import (
    CONTINENT_OF,
    EU_MEMBERS,
    Location,
    PolicyInvalid,
    evaluate,
    location_of_country,
    parse_policy,
    path_has_prefix,
)

DEMO_POLICY_FILE = Path(__file__).resolve().parents[2] / "shared" / "policies" / "geofence.json"
DEMO = parse_policy(json.loads(DEMO_POLICY_FILE.read_text(encoding="utf-8")))


def decide(method: str, path: str, country: str | None) -> tuple[bool, str]:
    decision = evaluate(DEMO, method, path, location_of_country(country))
    return decision.allowed, decision.rule


@pytest.mark.parametrize("country", ["CU", "IR", "KP", "SY"])
@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/products"), ("POST", "/auth/token"), ("GET", "/")]
)
def test_the_demo_policy_refuses_embargoed_countries_on_every_route(
    country: str, method: str, path: str
) -> None:
    assert decide(method, path, country) == (False, "embargoed-countries")


@pytest.mark.parametrize("country", ["DE", "FR", "IE", "CY", "GB", "CH", "NO", "US", "JP", "NZ"])
def test_orders_are_allowed_from_the_shipping_area(country: str) -> None:
    assert decide("POST", "/api/orders", country) == (True, "orders-shipping-area")


@pytest.mark.parametrize(
    ("country", "rule"),
    [
        ("BR", "orders-outside-shipping-area"),
        ("CN", "orders-outside-shipping-area"),
        ("RU", "orders-outside-shipping-area"),
        ("XX", "orders-unknown-location"),
        ("T1", "orders-unknown-location"),
        (None, "orders-unknown-location"),
    ],
)
def test_orders_from_anywhere_else_are_refused_by_a_named_rule(
    country: str | None, rule: str
) -> None:
    assert decide("POST", "/api/orders", country) == (False, rule)


def test_reading_orders_is_not_geofenced() -> None:
    assert decide("GET", "/api/orders", "BR") == (True, "open-to-everyone-else")


@pytest.mark.parametrize("country", ["XX", "T1", None])
def test_unknown_locations_may_browse_under_their_own_rule(country: str | None) -> None:
    assert decide("GET", "/api/products", country) == (True, "unknown-location-browsing")


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("DE", (True, "catalog-changes-eu-only")),
        ("CY", (True, "catalog-changes-eu-only")),
        ("NO", (False, "catalog-changes-outside-eu")),
        ("US", (False, "catalog-changes-outside-eu")),
        ("XX", (False, "catalog-changes-outside-eu")),
    ],
)
def test_catalog_changes_are_eu_only(country: str, expected: tuple[bool, str]) -> None:
    assert decide("PATCH", "/api/products/7", country) == expected
    assert decide("GET", "/api/products/7", country)[0] is True


def test_a_route_prefix_covers_its_subpaths_only_on_segment_boundaries() -> None:
    assert path_has_prefix("/api/orders", "/api/orders")
    assert path_has_prefix("/api/orders/7", "/api/orders/")
    assert not path_has_prefix("/api/ordersX", "/api/orders")
    assert decide("POST", "/api/ordersX", "BR") == (True, "open-to-everyone-else")


def test_the_decision_reports_the_policy_and_the_country_judged() -> None:
    decision = evaluate(DEMO, "GET", "/", Location(country=None))

    assert (decision.policy, decision.country) == ("outpost-demo", "XX")
    assert decision.description


def policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"policy": "test", "rules": list(rules), "default": {"name": "rest", "effect": "allow"}}


def test_continent_and_eu_selectors_never_match_unplaceable_locations() -> None:
    parsed = parse_policy(
        policy(
            {"name": "asia", "effect": "deny", "from": {"continents": ["AS"]}},
            {"name": "non-eu", "effect": "deny", "from": {"eu": False}},
        )
    )

    assert evaluate(parsed, "GET", "/", location_of_country("JP")).rule == "asia"
    assert evaluate(parsed, "GET", "/", location_of_country("US")).rule == "non-eu"
    for unplaceable in ("XX", "T1", None):
        assert evaluate(parsed, "GET", "/", location_of_country(unplaceable)).rule == "rest"


def test_the_runtime_location_wins_over_the_country_tables() -> None:
    parsed = parse_policy(policy({"name": "eu", "effect": "deny", "from": {"eu": True}}))
    # Cloudflare states EU membership itself; the tables only fill in for a bare country.
    stated = Location(country="DE", continent="EU", is_eu=False)

    assert evaluate(parsed, "GET", "/", stated).rule == "rest"


def test_methods_narrow_a_route() -> None:
    parsed = parse_policy(
        policy(
            {
                "name": "no-deletes",
                "effect": "deny",
                "routes": [{"prefix": "/api", "methods": ["DELETE"]}],
            }
        )
    )

    assert not evaluate(parsed, "DELETE", "/api/x", location_of_country("DE")).allowed
    assert evaluate(parsed, "GET", "/api/x", location_of_country("DE")).allowed


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        (policy({"name": "a", "effect": "maybe"}), "effect"),
        (policy({"name": "a", "effect": "deny", "from": {"countrys": ["DE"]}}), "countrys"),
        (policy({"name": "a", "effect": "deny", "from": {}}), "name countries"),
        (policy({"name": "a", "effect": "deny", "from": {"countries": ["de"]}}), "valid code"),
        (policy({"name": "a", "effect": "deny", "from": {"continents": ["XX"]}}), "continent"),
        (policy({"name": "a", "effect": "deny", "from": {"eu": "yes"}}), "eu must"),
        (policy({"name": "a", "effect": "deny", "routes": [{"prefix": "api"}]}), "prefix"),
        (policy({"name": "a", "effect": "deny"}, {"name": "a", "effect": "allow"}), "unique"),
        (policy({"name": "Bad Name", "effect": "deny"}), "name"),
        (
            {**policy(), "default": {"name": "d", "effect": "allow", "from": {"eu": True}}},
            "default",
        ),
        ({"policy": "x", "rules": {}}, "rules"),
        ([], "object"),
    ],
)
def test_a_malformed_policy_is_refused_with_a_reason(document: Any, complaint: str) -> None:
    with pytest.raises(PolicyInvalid, match=complaint):
        parse_policy(document)


def test_the_country_tables_are_consistent() -> None:
    assert len(EU_MEMBERS) == 27
    assert all(CONTINENT_OF[country] == "EU" for country in EU_MEMBERS)
    assert location_of_country("T1") == Location("T1", None, False)
    assert location_of_country("de") == Location(None)  # codes are uppercase or nothing


@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE"]),
    path=st.text(alphabet="/apiordersdu", max_size=20).map(lambda p: "/" + p),
    country=st.one_of(st.none(), st.sampled_from([*CONTINENT_OF, "XX", "T1"])),
)
def test_every_decision_names_a_rule_of_the_policy(
    method: str, path: str, country: str | None
) -> None:
    decision = evaluate(DEMO, method, path, location_of_country(country))

    assert decision.rule in {rule.name for rule in DEMO.rules} | {DEMO.default.name}
    assert decision.allowed is (
        next(
            (r for r in DEMO.rules if r.applies(method, path, location_of_country(country))),
            DEMO.default,
        ).effect
        == "allow"
    )
