"""The order of the origin's answers: no route (404), then no such method (405 with ``Allow``),
then who is calling (401, 403), then from where (451), then the endpoint.

Over HTTP against a real origin whose policy refuses one country; the requests come as the edge
sends them, with an assertion placing the caller in that country (tests/origin/live_origin.py),
so each one would be refused by the geofence if it ever got that far.
"""

from __future__ import annotations

import httpx
import pytest

from tests.origin.live_origin import EMBARGOED, LiveOrigin, placed_in

# Calls that, from the embargoed country, would be refused by the geofence if they got that far.
NEEDS_A_CALLER = ("DELETE", "/api/products/2147483647")  # template:demo
# template:no-demo: NEEDS_A_CALLER = ("GET", "/auth/me")
NEEDS_A_ROLE = ("DELETE", "/api/products/2147483647")  # template:demo
# template:no-demo: NEEDS_A_ROLE = ("GET", "/metrics")  # (not fenced: health and metrics never are)
ANYONE_MAY = ("GET", "/api/products")  # template:demo
# template:no-demo: ANYONE_MAY = ("GET", "/.well-known/jwks.json")


def from_the_embargo(
    live: LiveOrigin, method: str, path: str, token: str | None = None
) -> httpx.Response:
    headers = placed_in(EMBARGOED, method, path)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    with live.client() as client:
        return client.request(method, path, headers=headers)


def code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_path_no_route_serves_is_404_before_anything_else(live: LiveOrigin) -> None:
    response = from_the_embargo(live, "DELETE", "/api/nothing-here", token="not.a.token")

    assert code(response) == (404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/products/1", "GET, HEAD, PATCH, DELETE"),  # template:demo
        ("DELETE", "/auth/me", "GET, HEAD"),
        ("GET", "/metrics/all", None),  # no route, though the table covers the prefix
    ],
)
def test_a_method_or_path_a_route_does_not_serve_is_answered_before_who_or_where(
    live: LiveOrigin, method: str, path: str, allowed: str | None
) -> None:
    response = from_the_embargo(live, method, path, token="not.a.token")

    if allowed is None:
        assert code(response) == (404, "not_found")
    else:
        assert code(response) == (405, "method_not_allowed")
        assert set(response.headers["allow"].split(", ")) == set(allowed.split(", "))


def test_a_route_needing_a_caller_says_so_before_the_geofence_speaks(live: LiveOrigin) -> None:
    missing = from_the_embargo(live, *NEEDS_A_CALLER)
    bad = from_the_embargo(live, *NEEDS_A_CALLER, token="not.a.token")

    assert code(missing) == (401, "unauthorized")
    assert code(bad) == (401, "invalid_token")


def test_a_caller_without_the_role_is_refused_before_the_geofence_speaks(
    live: LiveOrigin, customer_token: str
) -> None:
    response = from_the_embargo(live, *NEEDS_A_ROLE, token=customer_token)

    assert code(response) == (403, "forbidden")


@pytest.mark.parametrize(
    ("call", "with_token"), [(NEEDS_A_CALLER, True), (ANYONE_MAY, False)], ids=["caller", "anyone"]
)
def test_only_a_request_the_route_admits_learns_the_policy(
    live: LiveOrigin, admin_token: str, call: tuple[str, str], with_token: bool
) -> None:
    response = from_the_embargo(live, *call, token=admin_token if with_token else None)

    assert code(response) == (451, "unavailable_for_legal_reasons")
    assert (response.json()["error"]["rule"], response.json()["error"]["country"]) == (
        "embargoed",
        EMBARGOED,
    )


def test_health_checks_are_not_fenced(live: LiveOrigin) -> None:
    assert from_the_embargo(live, "GET", "/healthz").status_code == 200
