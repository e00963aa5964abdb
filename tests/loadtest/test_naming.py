"""Request names carry scenario, request and the edge's cache verdict; refusals are judged by
whether an edge was in the path."""

from __future__ import annotations

import pytest

from loadtest.naming import (
    DIRECT,
    RequestName,
    cache_outcome,
    geofence_refusal_failure,
    parse_request_name,
    request_name,
    unexpected_status,
)


def test_a_name_joins_scenario_request_and_the_edges_cache_verdict() -> None:
    assert request_name("catalog", "product", "HIT") == "catalog: product [HIT]"


def test_a_response_without_x_cache_came_straight_from_the_origin() -> None:
    assert request_name("catalog", "product", None) == "catalog: product [DIRECT]"
    assert cache_outcome("  ") == DIRECT


def test_the_cache_verdict_is_normalised_to_upper_case() -> None:
    assert cache_outcome(" miss ") == "MISS"


def test_a_built_name_parses_back_into_its_parts() -> None:
    name = request_name("refusals", "blocked country", "BYPASS")
    assert parse_request_name(name) == RequestName("refusals", "blocked country", "BYPASS")


@pytest.mark.parametrize("name", ["setup: catalog", "/api/products", "catalog: product [hit]"])
def test_names_not_built_by_the_scenarios_do_not_parse(name: str) -> None:
    assert parse_request_name(name) is None


def test_an_expected_status_is_no_failure_and_another_one_says_what_was_wanted() -> None:
    assert unexpected_status(401, frozenset({401})) is None
    assert unexpected_status(200, frozenset({401})) == "expected HTTP 401, got 200"
    assert unexpected_status(500, frozenset({201, 200})) == "expected HTTP 200 or 201, got 500"


def test_through_an_edge_a_blocked_country_must_get_451() -> None:
    assert geofence_refusal_failure(451, "BYPASS") is None
    assert geofence_refusal_failure(200, "HIT") == "expected HTTP 451, got 200"


def test_straight_to_the_origin_a_blocked_country_is_served_geofencing_is_the_edges_job() -> None:
    assert geofence_refusal_failure(200, None) is None
    assert geofence_refusal_failure(503, None) == "expected a 2xx from the origin, got 503"
