"""The origin enforces the route table (shared/policies/routes.json), the edge's own rules.

Every route the origin serves, with every method it serves, is called over HTTP as nobody, with
a bad token, as a customer and as an administrator; what the origin answers must be what the
table says: the table is the one source of who may call what, and a route whose endpoint asks
for more (or less) than the table fails here.
"""

from __future__ import annotations

import httpx
import pytest
from starlette.routing import Route

from origin.access import RouteNotInTable, load_route_table, require_every_route_named
from origin.app import create_app
from origin.middleware.route_checks import served_methods
from origin.settings import Settings
from shared.routes import Auth, RouteRule
from tests.origin.live_origin import ADMIN, CUSTOMER, Account, LiveOrigin

TABLE = load_route_table()
ROUTES = [
    route for route in create_app(Settings.from_mapping({})).routes if isinstance(route, Route)
]
# An id no row has: the request passes the checks and the endpoint answers 404, writing nothing.
ABSENT_ID = "2147483647"
REFUSALS = {401, 403}


def concrete_path(route: Route) -> str:
    return route.path_format.format(**dict.fromkeys(route.param_convertors, ABSENT_ID))


SERVED = [
    (method, route.path_format, concrete_path(route))
    for route in ROUTES
    for method in sorted(served_methods(route) or ())
]
CALLS = [pytest.param(method, path, id=f"{method} {template}") for method, template, path in SERVED]


def session_for(live: LiveOrigin, account: Account, path: str, token: str) -> str:
    """``token``, or a session of its own where the call would end it (``/auth/logout``)."""
    return live.sign_in(account) if path == "/auth/logout" else token


def call(live: LiveOrigin, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with live.client() as client:
        return client.request(method, path, headers=headers)


def rule_for(method: str, path: str) -> RouteRule:
    return TABLE.match(method, path)


@pytest.mark.parametrize(("method", "path"), CALLS)
def test_an_anonymous_caller_is_refused_exactly_where_the_table_requires_a_caller(
    live: LiveOrigin, method: str, path: str
) -> None:
    response = call(live, method, path, token=None)

    if rule_for(method, path).auth is Auth.REQUIRED:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    else:
        assert response.status_code not in REFUSALS, response.text


@pytest.mark.parametrize(("method", "path"), CALLS)
def test_a_bad_token_is_refused_exactly_where_the_table_looks_at_tokens(
    live: LiveOrigin, method: str, path: str
) -> None:
    response = call(live, method, path, token="not.a.token")

    if rule_for(method, path).auth is Auth.PUBLIC:
        assert response.status_code not in REFUSALS, response.text
    else:
        assert response.status_code == 401, response.text


@pytest.mark.parametrize(("method", "path"), CALLS)
def test_a_customer_is_refused_exactly_where_the_table_requires_a_role(
    live: LiveOrigin, customer_token: str, method: str, path: str
) -> None:
    response = call(live, method, path, session_for(live, CUSTOMER, path, customer_token))

    if rule_for(method, path).roles - {"customer"}:
        assert response.status_code == 403, response.text
    else:
        assert response.status_code not in REFUSALS, response.text


@pytest.mark.parametrize(("method", "path"), CALLS)
def test_an_administrator_may_call_everything(
    live: LiveOrigin, admin_token: str, method: str, path: str
) -> None:
    response = call(live, method, path, session_for(live, ADMIN, path, admin_token))

    assert response.status_code not in REFUSALS, response.text


def test_metrics_are_for_administrators_at_the_origin_too(
    live: LiveOrigin, admin_token: str, customer_token: str
) -> None:
    anonymous = call(live, "GET", "/metrics", token=None)
    customer = call(live, "GET", "/metrics", token=customer_token)
    admin = call(live, "GET", "/metrics", token=admin_token)

    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "unauthorized")
    assert (customer.status_code, customer.json()["error"]["code"]) == (403, "forbidden")
    assert 'error="insufficient_scope"' in customer.headers["www-authenticate"]
    assert admin.status_code == 200
    assert "http_requests_total" in admin.text


# The one table serves both variants of the template: an app made with --no-demo serves
# /api/hello (templating/no_demo/) instead of the shop, and its rule stays in the table.
OTHER_VARIANTS_ROUTES = {"/api/hello"}  # template:demo


def test_every_rule_of_the_table_decides_for_some_route_the_origin_serves() -> None:
    deciding = {id(rule_for(method, path)) for method, _, path in SERVED}
    stale = [rule.prefix for rule in TABLE.rules if id(rule) not in deciding]
    stale = [prefix for prefix in stale if prefix not in OTHER_VARIANTS_ROUTES]  # template:demo

    assert stale == []


SECURITY: dict[Auth, list[dict[str, list[str]]] | None] = {
    Auth.PUBLIC: None,
    Auth.OPTIONAL: [{}, {"bearerAuth": []}],
    Auth.REQUIRED: [{"bearerAuth": []}],
}


def test_the_document_declares_the_security_the_table_enforces(live: LiveOrigin) -> None:
    with live.client() as client:
        paths = client.get("/openapi.json").json()["paths"]

    for template, item in paths.items():
        for method, operation in item.items():
            rule = rule_for(method.upper(), template)
            expected = SECURITY[rule.auth]
            assert operation.get("security") == expected, f"{method.upper()} {template}"
            assert ("403" in operation["responses"]) == bool(rule.roles)


def test_every_route_and_method_the_origin_serves_is_named_by_the_table() -> None:
    unnamed = [
        (method, template)
        for method, template, _ in SERVED
        if not TABLE.match(method, template).known
    ]
    assert unnamed == []


def test_a_route_the_table_does_not_name_stops_the_app_from_being_built() -> None:
    """Falling to the default would make it public by accident, an admin-only write included."""

    async def unlisted(request: object) -> None: ...

    with pytest.raises(RouteNotInTable, match=r"DELETE /api/secret.*shared/policies/routes.json"):
        require_every_route_named([Route("/api/secret", unlisted, methods=["DELETE"])], TABLE)
