"""The edge pipeline: checks -> route -> auth -> geofence -> cache -> forward, over the ports.

The order is the origin's (``origin/app.py``): what the route table does not name is forwarded
unjudged, so the origin answers 404 or 405 first; then who is calling (401/403), then from where
(451). Each step either answers (raising :class:`~edge.answers.EarlyAnswer`) or lets the request
go on. Every response leaves with ``X-Cache``, ``X-Request-ID`` and ``Server-Timing`` (the
edge's steps, then the origin's own entries); an unexpected failure is a JSON 500, never a
traceback.
"""

from __future__ import annotations

import logging

from edge.answers import EarlyAnswer, error_response
from edge.auth import Authenticator
from edge.cache_store import TaggedCache
from edge.caching import BYPASS, CacheStep
from edge.config import EdgeConfig
from edge.context import RequestContext
from edge.forward import Forwarder
from edge.geofence import enforce_geofence
from edge.http import EdgeRequest, EdgeResponse
from edge.jwks import JwksCache
from edge.ports import Clock, Runtime
from edge.request_checks import check_request
from edge.timing import StepTimer
from shared.routes import Auth, RouteRule
from shared.trace_context import RequestIdentity, identify_request

logger = logging.getLogger("outpost.edge")

# CORS preflights never carry credentials: they pass without auth (the origin answers them).
_PREFLIGHT_ROUTE = RouteRule(prefix="/", methods=frozenset({"OPTIONS"}), auth=Auth.PUBLIC)


class FixedClock:
    """Wall time stopped at one instant (``EDGE_FIXED_TIME``, local mode only), so tests can
    judge tokens exactly at the instant they were made for; monotonic time still runs."""

    def __init__(self, clock: Clock, fixed_time: float) -> None:
        self._clock = clock
        self._fixed_time = fixed_time

    def now(self) -> float:
        return self._fixed_time

    def monotonic(self) -> float:
        return self._clock.monotonic()


class EdgePipeline:
    def __init__(self, config: EdgeConfig, runtime: Runtime) -> None:
        clock: Clock = runtime.clock
        if config.fixed_time is not None:
            clock = FixedClock(clock, config.fixed_time)
        self.config = config
        self.runtime = runtime
        self._clock = clock
        self.jwks = JwksCache(
            url=config.jwks_url,
            upstream=runtime.upstream,
            clock=clock,
            max_age_seconds=config.jwks_max_age_seconds,
            refetch_interval_seconds=config.jwks_refetch_interval_seconds,
        )
        self._auth = Authenticator(
            policy=config.token_policy,
            jwks=self.jwks,
            verifier=runtime.verifier,
            clock=clock,
            realm=config.realm,
        )
        forwarder = Forwarder(config, runtime.upstream, clock, runtime.random)
        self.store = TaggedCache(runtime.cache, clock, runtime.random)
        self._cache = CacheStep(
            config=config,
            store=self.store,
            forwarder=forwarder,
            clock=clock,
            background=runtime.background,
        )

    async def handle(self, request: EdgeRequest) -> EdgeResponse:
        timer = StepTimer(self._clock.monotonic)
        headers = request.headers
        identity = identify_request(
            headers.get("x-request-id"), headers.get("traceparent"), self.runtime.random.hex
        )
        cache_status = BYPASS
        try:
            response, cache_status = await self._run(request, identity, timer)
        except EarlyAnswer as answer:
            response = answer.response
        except Exception:
            logger.exception("edge failure", extra={"request_id": identity.request_id})
            response = error_response(
                500,
                "internal_error",
                "the edge failed to handle this request",
                request_id=identity.request_id,
            )
        return self._finish(response, identity, timer, cache_status)

    async def _run(
        self, request: EdgeRequest, identity: RequestIdentity, timer: StepTimer
    ) -> tuple[EdgeResponse, str]:
        target = check_request(request, self.config.limits)
        route = (
            _PREFLIGHT_ROUTE
            if request.method == "OPTIONS"
            else self.config.routes.match(request.method, target.path)
        )
        context = RequestContext(request, target, identity, timer, route)
        started = timer.started
        context.token = await self._auth.authenticate(
            route, request.headers.get_all("authorization")
        )
        started = timer.record("edge-auth", started)
        context.location = self.runtime.geolocator.locate(request)
        if route.known:
            # What the table does not name is no route: the origin answers 404 or 405, and a
            # request for nothing must not learn the policy first.
            enforce_geofence(self.config.geofence, context, context.location)
        started = timer.record("edge-geo", started)
        outcome = await self._cache.handle(context)
        description = f"{outcome.status} {outcome.detail}" if outcome.detail else outcome.status
        timer.record("edge-cache", started, description)
        return outcome.response, outcome.status

    @staticmethod
    def _finish(
        response: EdgeResponse,
        identity: RequestIdentity,
        timer: StepTimer,
        cache_status: str,
    ) -> EdgeResponse:
        upstream_timing = ", ".join(response.header_values("server-timing")) or None
        response.without_headers(frozenset({"server-timing", "x-cache", "x-request-id"}))
        response.headers += [
            ("x-cache", cache_status),
            ("x-request-id", identity.request_id),
            ("server-timing", timer.header_value(upstream_timing)),
        ]
        return response
