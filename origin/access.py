"""Who may call what, at the origin: the route table the edge enforces, enforced again.

The origin must be reachable by the edge, so it can be reached around it too: whatever the edge
protects, the origin protects the same way, from the same rules (``shared/policies/routes.json``,
parsed by :mod:`shared.routes`). The check runs once a request has found its route (see
:mod:`origin.middleware.route_checks`) and answers as the edge does: 401 with a bearer
challenge without a valid caller where one is required (or with a bad token where one is
optional), 403 without every role the route needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from origin.errors import ApiError
from origin.middleware.route_checks import RouteCheck, served_methods
from origin.principals import current_principal, require_principal
from shared.jwt import www_authenticate_header
from shared.routes import Auth, RouteTable, parse_route_table
from shared.settings_rules import ROUTES_FILE

REALM = "outpost"
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def load_route_table(path: Path = ROUTES_FILE) -> RouteTable:
    return parse_route_table(json.loads(path.read_text(encoding="utf-8")))


class RouteNotInTable(RuntimeError):
    """A route the origin serves has no rule: who may call it would be left to the default."""


def require_every_route_named(routes: Iterable[BaseRoute], table: RouteTable) -> None:
    """Refuse to build an app with a route (or a method of one) the table does not name.

    The table's default is for paths that are not routes; a real route that fell to it would be
    public by accident, an admin-only write included. Failing here, when the app is built, makes
    a forgotten rule a start-up error instead of an open route.
    """
    unnamed = [
        f"{method} {route.path_format}"
        for route in routes
        if isinstance(route, Route)
        for method in sorted(served_methods(route) or ALL_METHODS)
        if not table.match(method, route.path_format).known
    ]
    if unnamed:
        raise RouteNotInTable(
            f"{', '.join(unnamed)}: not named in shared/policies/routes.json; give every route a "
            "rule there (who may call it)"
        )


def access_check(table: RouteTable) -> RouteCheck:
    """The route table's rule for the request's method and path, enforced."""

    async def enforce_access(request: Request) -> None:
        rule = table.match(request.method, request.scope["path"])
        if rule.auth is Auth.PUBLIC:
            return
        if rule.auth is Auth.OPTIONAL:
            await current_principal(request)  # a token, if sent, must be valid
            return
        principal = await require_principal(request)
        missing = rule.roles - principal.roles
        if missing:
            raise ApiError(
                403,
                "forbidden",
                f"this route needs the role {', '.join(sorted(missing))}",
                headers={
                    "WWW-Authenticate": www_authenticate_header("insufficient_scope", realm=REALM)
                },
            )

    return enforce_access
