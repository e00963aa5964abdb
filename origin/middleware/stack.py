"""The order of the origin's layers, in one place: what runs before routing (ASGI middleware)
and what runs once a route is known (route checks). :func:`origin.app.create_app` installs
exactly this; ``tests/origin/middleware/test_stack.py`` checks it on the real app.

The order of the answers a request can get is deliberate, outermost first:

0. with tracing on, the trace's server span (:mod:`origin.observability.otel`), around all;
1. request context: ids, logs, metrics, and the last-resort 500;
2. request head: a repeated singleton header (400; two ``Authorization`` headers 401 as at the
   edge), too many or too large headers (431);
3. body limit: 413 (400 for a bad ``Content-Length``), before anything reads the body;
4. CORS: preflights answered;
5. rate limit: 429, on every request, routed or not, so that probing for routes and guessing
   tokens spend the same budget (it reveals nothing about routes or policy);
6. routing (Starlette's router, after this stack): 404 for no route, 405 with ``Allow`` for a
   method the route does not serve;
7. the route checks: 401/403 from the route table (:mod:`origin.access`), then 451 from the
   geofence (:mod:`origin.middleware.geofence`), so only a real route, with the credentials it
   needs, learns the policy;
8. the endpoint: 415, 400 (malformed), 422 (invalid), then its own answers (404, 409...).

The edge runs the same order where it can know it (``edge/pipeline.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from origin.access import access_check
from origin.middleware import geofence, rate_limit
from origin.middleware.body_limit import BodyLimitMiddleware
from origin.middleware.geofence import geofence_check, load_policy
from origin.middleware.rate_limit import RateLimitMiddleware
from origin.middleware.request_context import Observer, RequestContextMiddleware
from origin.middleware.request_head import RequestHeadMiddleware
from origin.middleware.route_checks import RouteCheck
from origin.observability.openapi import Responses
from origin.settings import Settings
from shared.routes import RouteTable

if TYPE_CHECKING:
    from collections.abc import Callable

    from origin.observability.otel import Tracing

# What the layers before the endpoint may answer on a route, for the OpenAPI document (the
# route table's 401/403 are documented from the table itself).
IMPLIED_RESPONSES: list[Callable[[str, str], Responses]] = [
    rate_limit.documented_responses,
    geofence.documented_responses,
]


def middleware_stack(
    settings: Settings, observers: list[Observer], tracing: Tracing | None
) -> list[Middleware]:
    """Steps 0 to 5, outermost first."""
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


def route_checks(settings: Settings, access: RouteTable) -> list[RouteCheck]:
    """Step 7, in order: who is calling (401, 403), then from where (451)."""
    return [access_check(access), geofence_check(settings.geofence_policy or load_policy())]


def _cors_options(settings: Settings) -> dict[str, Any]:
    return {
        "allow_origins": list(settings.cors_origins),
        "allow_methods": ["GET", "POST", "PATCH", "DELETE"],
        "allow_headers": ["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
        "expose_headers": ["ETag", "Retry-After", "X-Request-ID", "Idempotent-Replayed"],
        "max_age": 600,
    }
