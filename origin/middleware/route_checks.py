"""Checks that run once a request has found its route and method, before the endpoint.

Starlette's router answers first: 404 for a path no route matches, 405 (with ``Allow``) for a
method the route does not serve. Only a request that gets past both meets these checks, so a
probe for something that does not exist learns nothing about who may call what or from where.
``origin/app.py`` decides which checks run and in what order.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence

from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

RouteCheck = Callable[[Request], Awaitable[None]]
"""Raises an :class:`~origin.errors.ApiError` to refuse the request; returns to let it on."""


def checked_routes(routes: Iterable[BaseRoute], checks: Sequence[RouteCheck]) -> list[BaseRoute]:
    """Copies of ``routes`` whose endpoints run behind ``checks``, in order.

    The routes themselves are left as they are (route lists are module-level and shared by every
    app built from them). Only plain routes are supported: a mount would hide its routes' methods.
    """
    checked: list[BaseRoute] = []
    for route in routes:
        if not isinstance(route, Route):
            raise TypeError(f"route checks cover plain Route objects only, not {route!r}")
        guarded = copy.copy(route)
        guarded.app = _Checked(route.app, served_methods(route), tuple(checks))
        checked.append(guarded)
    return checked


def served_methods(route: Route) -> frozenset[str] | None:
    """The methods ``route`` answers other than with 405; ``None`` for every method."""
    endpoint = route.endpoint
    if inspect.isclass(endpoint) and issubclass(endpoint, HTTPEndpoint):
        methods = {
            method
            for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
            if hasattr(endpoint, method.lower())
        }
        if "GET" in methods:
            methods.add("HEAD")  # HTTPEndpoint answers HEAD with its GET handler
        return frozenset(methods)
    return None if route.methods is None else frozenset(route.methods)


class _Checked:
    def __init__(
        self, app: ASGIApp, methods: frozenset[str] | None, checks: tuple[RouteCheck, ...]
    ) -> None:
        self.app = app
        self.methods = methods
        self.checks = checks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A method the route does not serve goes on to the endpoint class's own 405.
        if scope["type"] == "http" and (self.methods is None or scope["method"] in self.methods):
            request = Request(scope, receive)
            for check in self.checks:
                await check(request)
        await self.app(scope, receive, send)
