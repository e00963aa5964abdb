"""The origin's ASGI application: ``create_app(settings)`` wires routes, middleware and services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Route

from origin import domain, geofence, health, rate_limit
from origin.access import access_check, load_route_table, require_every_route_named
from origin.db.engine import create_engine, session_factory
from origin.db.migrate import ensure_migrated
from origin.errors import EXCEPTION_HANDLERS
from origin.geofence import geofence_check, load_policy
from origin.identity import routes as identity_routes
from origin.identity.service import Identity
from origin.kv import open_store
from origin.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    RequestHeadMiddleware,
)
from origin.middleware.request_context import Observer
from origin.observability.logging import configure_logging
from origin.observability.metrics import HttpMetrics, Registry, mark_worker_started, metrics_route
from origin.observability.openapi import build_openapi, openapi_route
from origin.observability.origin_metrics import OriginMetrics
from origin.observability.tracing import process_tracing
from origin.rate_limit import RateLimitMiddleware
from origin.route_checks import checked_routes
from origin.server_errors import answer_protocol_errors_as_json
from origin.services import Authenticator, Services
from origin.settings import Settings

if TYPE_CHECKING:
    from origin.observability.otel import Tracing

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
        engine = create_engine(settings.database_url)
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
        implied=[rate_limit.documented_responses, geofence.documented_responses],
    )
    # Once routed: who is calling (401, 403), then from where (451); see _middleware.
    checks = [access_check(access), geofence_check(settings.geofence_policy or load_policy())]
    exception_handlers = {**EXCEPTION_HANDLERS, **domain.EXCEPTION_HANDLERS}
    app = Starlette(
        routes=checked_routes([*api_routes, openapi_route(document)], checks),
        middleware=_middleware(settings, [HttpMetrics(registry).observe, metrics.observe], tracing),
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


def _middleware(
    settings: Settings, observers: list[Observer], tracing: Tracing | None
) -> list[Middleware]:
    """Outermost first. The order of the answers a request can get is deliberate:

    0. with tracing on, the trace's server span (:mod:`origin.observability.otel`), around all;
    1. request context: ids, logs, metrics, and the last-resort 500;
    2. request head: a repeated singleton header (400; two ``Authorization`` headers 401 as at
       the edge), too many or too large headers (431);
    3. body limit: 413 (400 for a bad ``Content-Length``), before anything reads the body;
    4. CORS: preflights answered;
    5. rate limit: 429, on every request, routed or not, so that probing for routes and guessing
       tokens spend the same budget (it reveals nothing about routes or policy);
    6. routing (Starlette's router, after this stack): 404 for no route, 405 with ``Allow`` for
       a method the route does not serve;
    7. the route checks (:mod:`origin.route_checks`, wired in :func:`create_app`): 401/403 from
       the route table (:mod:`origin.access`), then 451 from the geofence
       (:mod:`origin.geofence`), so only a real route, with the credentials it needs, learns the
       policy;
    8. the endpoint: 415, 400 (malformed), 422 (invalid), then its own answers (404, 409...).

    The edge runs the same order where it can know it (``edge/pipeline.py``).
    """
    stack = [] if tracing is None else tracing.middleware()
    stack += [
        Middleware(
            RequestContextMiddleware,
            observers=observers,
            current_trace=None if tracing is None else tracing.current_traceparent,
        ),
        Middleware(RequestHeadMiddleware),
        Middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes),
    ]
    if settings.cors_origins:
        stack.append(Middleware(CORSMiddleware, **_cors_options(settings)))
    stack.append(Middleware(RateLimitMiddleware, limit_per_minute=settings.rate_limit_per_minute))
    return stack


def _cors_options(settings: Settings) -> dict[str, Any]:
    return {
        "allow_origins": list(settings.cors_origins),
        "allow_methods": ["GET", "POST", "PATCH", "DELETE"],
        "allow_headers": ["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
        "expose_headers": ["ETag", "Retry-After", "X-Request-ID", "Idempotent-Replayed"],
        "max_age": 600,
    }
