"""The origin's ASGI application: ``create_app(settings)`` wires routes, middleware and services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from origin import domain, health
from origin.access import load_route_table, require_every_route_named
from origin.db.engine import create_engine, session_factory
from origin.db.migrate import ensure_migrated
from origin.errors import EXCEPTION_HANDLERS
from origin.identity import routes as identity_routes
from origin.identity.service import Identity
from origin.kv import open_store
from origin.middleware.route_checks import checked_routes
from origin.middleware.stack import IMPLIED_RESPONSES, middleware_stack, route_checks
from origin.observability.logging import configure_logging
from origin.observability.metrics import HttpMetrics, Registry, mark_worker_started, metrics_route
from origin.observability.openapi import build_openapi, openapi_route
from origin.observability.origin_metrics import OriginMetrics
from origin.observability.tracing import process_tracing
from origin.server_errors import answer_protocol_errors_as_json
from origin.services import Authenticator, Services
from origin.settings import Settings

if TYPE_CHECKING:
    pass

TITLE = "outpost origin"
VERSION = "0.1.0"


def create_app(
    settings: Settings | None = None,
    *,
    authenticator: Authenticator | None = None,
    identity: Identity | None = None,
) -> Starlette:
    """Build the app. Nothing connects until the lifespan starts (the server's startup).

    ``authenticator`` defaults to the identity service's (edge assertions, then bearer tokens);
    ``identity`` to one built from ``settings`` (tests pass their own, e.g. with a fixed clock).
    """
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    registry = Registry()
    metrics = OriginMetrics(registry)
    tracing = process_tracing(registry)
    identity = identity or Identity(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        if tracing is not None:
            tracing.instrument_engine(engine)
        try:
            await ensure_migrated(engine)
            store = open_store(settings.redis_url, prefix=settings.redis_prefix)
            metrics.watch_store(store, "memory" if settings.redis_url is None else "redis")
            metrics.watch_pool(engine)
            mark_worker_started(registry)
            sessions = session_factory(engine)
            try:
                await identity.start(store=store, sessions=sessions)
                app.state.services = Services(
                    settings=settings,
                    engine=engine,
                    sessions=sessions,
                    store=store,
                    authenticator=authenticator or identity.authenticate,
                    metrics=metrics,
                )
                yield
            finally:
                await identity.aclose()
                await store.aclose()
        finally:
            await engine.dispose()

    access = load_route_table()
    api_routes: list[BaseRoute] = [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        metrics_route(registry=registry),
        *identity_routes.ROUTES,
        *domain.ROUTES,
    ]
    require_every_route_named(api_routes, access)
    document = build_openapi(
        api_routes,
        TITLE,
        VERSION,
        access=access,
        implied=IMPLIED_RESPONSES,
    )
    exception_handlers = {**EXCEPTION_HANDLERS, **domain.EXCEPTION_HANDLERS}
    app = Starlette(
        # The layers' order lives in origin/middleware/stack.py.
        routes=checked_routes(
            [*api_routes, openapi_route(document)], route_checks(settings, access)
        ),
        middleware=middleware_stack(
            settings, [HttpMetrics(registry).observe, metrics.observe], tracing
        ),
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    # No redirect from /path/ to /path: Starlette builds its Location from the Host the origin
    # was reached by, which sends clients around the edge. A trailing slash is a JSON 404.
    app.router.redirect_slashes = False
    answer_protocol_errors_as_json()  # the server's own 400/431 carry the JSON body too
    app.state.identity = identity
    app.state.openapi = document
    return app
