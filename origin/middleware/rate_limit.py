"""Per-client rate limiting: 429 with ``Retry-After`` and ``RateLimit-*`` headers.

The client is the authenticated subject when there is one (so a user keeps one budget across
addresses) and the connecting address otherwise. The budget lives in the key-value store, so
all origin processes share it when Redis is configured; when Redis fails, the store lets the
request through (fails open) rather than turning an outage of the cache into one of the API.

A read that a cached answer could serve spends its budget and fetches that answer in one store
call (:mod:`origin.http_cache` then uses it), saving a second Redis round trip per cached read.
The same call reads what the authenticator needs to check the caller (the session's revocation
marker, a :class:`~origin.principals.DeferredCheck`) and spends the edge assertion's nonce, so
an authenticated request spends one Redis round trip on rate limiting, replay, revocation and
the cached answer together.
"""

from __future__ import annotations

import contextlib
import math

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.errors import ApiError, error_response
from origin.http_cache import keep_read_ahead, read_ahead_key
from origin.kv import Lookup, RateLimitDecision
from origin.observability.openapi import Answer, Header, Responses
from origin.principals import (
    DeferredCheck,
    current_principal,
    offer_deferred_checks,
    take_deferred_checks,
    whereabouts,
)
from origin.services import services

WINDOW_SECONDS = 60.0
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER = Header("Seconds to wait before retrying.", {"type": "integer", "minimum": 1})


def documented_responses(method: str, path: str) -> Responses:
    """What the limiter may answer on a route, for the OpenAPI document."""
    return {} if path in UNLIMITED_PATHS else {429: Answer(headers={"Retry-After": RETRY_AFTER})}


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit_per_minute: int) -> None:
        self.app = app
        self.limit = limit_per_minute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        offer_deferred_checks(request)
        bucket = await client_bucket(request)
        checks = take_deferred_checks(request)
        store = services(request).store
        read_ahead = read_ahead_key(request)
        if checks:
            decision = await self._hit_and_check(request, bucket, checks, read_ahead)
        elif read_ahead is None:
            decision = await store.hit(bucket, self.limit, WINDOW_SECONDS)
        else:
            decision, (cached,) = await store.hit_and_read(
                bucket, self.limit, WINDOW_SECONDS, [read_ahead]
            )
            keep_read_ahead(request, read_ahead, cached)
        headers = {
            "RateLimit-Limit": str(decision.limit),
            "RateLimit-Remaining": str(decision.remaining),
            "RateLimit-Reset": str(math.ceil(decision.reset_after_seconds)),
        }
        if not decision.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(decision.retry_after_seconds)))
            response = error_response(
                429, "rate_limited", "too many requests; retry after the given delay", headers
            )
            await response(scope, receive, send)
            return

        encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *encoded]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _hit_and_check(
        self,
        request: Request,
        bucket: str,
        checks: list[DeferredCheck],
        read_ahead: str | None,
    ) -> RateLimitDecision:
        """Spend the budget, read what the caller's check needs (and the cached answer) in one
        store call, and conclude the check. A caller it refuses spends its address's budget, as
        any refused credential does; the route answers the refusal (remembered for the request).
        """
        lookups = [Lookup(check.key, check.claim_ttl_seconds, refuses=True) for check in checks]
        if read_ahead is not None:
            lookups.append(Lookup(read_ahead))
        address_bucket = _address_bucket((await whereabouts(request)).client)
        store = services(request).store
        decision, values = await store.hit_and_read(
            bucket, self.limit, WINDOW_SECONDS, lookups, instead=address_bucket
        )
        # Read before anything else awaits: a check that awaits could let another request's
        # probe bring the store back, and "nothing found" would then pass for an answer.
        answered = store.healthy
        if read_ahead is not None:
            keep_read_ahead(request, read_ahead, values[-1])
        with contextlib.suppress(ApiError):  # the first refusal stands; the route answers it
            for check, value in zip(checks, values, strict=False):
                await check.conclude(value, answered)
        return decision


def _address_bucket(client: str) -> str:
    return f"ratelimit:addr:{client}"


async def client_bucket(request: Request) -> str:
    """The caller's subject, else its address (the edge reports the real one; a request with a
    bad credential spends its address's budget, so guessing tokens is rate limited too)."""
    try:
        principal = await current_principal(request)
    except ApiError:
        principal = None
    if principal is not None:
        return f"ratelimit:sub:{principal.subject}"
    return _address_bucket((await whereabouts(request)).client)
