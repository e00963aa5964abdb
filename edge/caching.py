"""The cache step: answer from the edge's copy when RFC 9111 allows, else fetch and keep a copy.

- Reads (GET/HEAD) are looked up under a normalised key (see :mod:`shared.http_cache`). A fresh
  copy is a ``HIT``. A stale copy within ``stale-while-revalidate`` is served (``STALE``) while a
  background task refreshes it. Any other stale copy is revalidated with ``If-None-Match``; a 304
  refreshes it (``HIT``), and if the origin fails, a copy within ``stale-if-error`` is served
  (``STALE``) instead of the error.
- A fetched response is stored only when the rules allow (``MISS``); otherwise it is passed on
  (``BYPASS``). Copies that are not shareable with authenticated requests (§3.5) are never served
  to them.
- Writes pass through (``BYPASS``); a successful one invalidates its own URL and, through
  ``Purge-Tags``, every copy depending on the tags the origin names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from edge.cache_store import StoredResponse, TaggedCache
from edge.config import EdgeConfig
from edge.context import RequestContext
from edge.forward import Forwarder, client_response, upstream_failure
from edge.http import EdgeResponse, header_multimap
from edge.ports import BackgroundWork, Clock, UpstreamFailed, UpstreamResponse, UpstreamTimeout
from shared.http_cache import (
    CACHEABLE_METHODS,
    Freshness,
    QueryTooComplex,
    ResponsePolicy,
    cache_key,
    current_age,
    freshened_headers,
    if_none_match_matches,
    may_store,
    normalise_query,
    parse_tags,
    response_policy,
    vary_names,
)

logger = logging.getLogger("outpost.edge")

HIT, MISS, STALE, BYPASS = "HIT", "MISS", "STALE", "BYPASS"
# stale-if-error covers these origin answers as well as failures to answer (RFC 5861 §4).
_ERROR_STATUSES = frozenset({500, 502, 503, 504})
# Per-request headers that must not be replayed from a stored copy.
_NOT_STORED = frozenset(
    {
        "server-timing",
        "x-request-id",
        "traceparent",
        "set-cookie",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    }
)
# What a 304 to the client carries (RFC 9110 §15.4.5).
_NOT_MODIFIED_HEADERS = frozenset(
    {"cache-control", "content-location", "date", "etag", "expires", "vary", "age"}
)


@dataclass(slots=True)
class CacheOutcome:
    response: EdgeResponse
    status: str  # HIT, MISS, STALE or BYPASS
    detail: str | None = None  # e.g. "revalidated", for Server-Timing


class CacheStep:
    def __init__(
        self,
        *,
        config: EdgeConfig,
        store: TaggedCache,
        forwarder: Forwarder,
        clock: Clock,
        background: BackgroundWork,
    ) -> None:
        self._config = config
        self._store = store
        self._forwarder = forwarder
        self._clock = clock
        self._background = background
        self._refreshing: set[str] = set()

    async def handle(self, context: RequestContext) -> CacheOutcome:
        method = context.request.method
        if method not in CACHEABLE_METHODS:
            return await self._write(context)
        try:
            query = normalise_query(context.target.query, self._config.ignored_query_parameters)
        except QueryTooComplex:
            return await self._pass_through(context)
        key = cache_key(context.target.path, query)
        target = context.target.forwarded(query)
        authorized = context.forwards_authorization
        request_headers = context.request.headers.multimap()
        stored = await self._store.lookup(key, request_headers)
        if stored is None:
            return await self._fetch(context, key, target, authorized)
        policy = response_policy(stored.header_map())
        if authorized and not policy.shareable_with_authorization:
            return await self._pass_through(context, target)
        age = self._age(stored)
        freshness = policy.freshness(age)
        if freshness is Freshness.FRESH:
            return CacheOutcome(self._serve(context, stored, age), HIT)
        if freshness is Freshness.STALE_WHILE_REVALIDATE:
            self._refresh_in_background(context, key, target, stored)
            return CacheOutcome(self._serve(context, stored, age), STALE, "revalidating")
        return await self._revalidate(context, key, target, stored, policy, age)

    async def _fetch(
        self, context: RequestContext, key: str, target: str, authorized: bool
    ) -> CacheOutcome:
        request_time = self._clock.now()
        try:
            upstream = await self._forwarder.fetch(
                context, method="GET", target=target, for_cache=True
            )
        except (UpstreamTimeout, UpstreamFailed) as error:
            return CacheOutcome(upstream_failure(error), MISS)
        stored = await self._keep(context, key, upstream, request_time, authorized)
        if stored is None:
            return CacheOutcome(self._respond(context, client_response(upstream)), BYPASS)
        response = self._serve(context, stored, self._age(stored))
        response.headers += [(n, v) for n, v in upstream.headers if n == "server-timing"]
        return CacheOutcome(response, MISS)

    async def _revalidate(
        self,
        context: RequestContext,
        key: str,
        target: str,
        stored: StoredResponse,
        policy: ResponsePolicy,
        age: float,
    ) -> CacheOutcome:
        try:
            fresh = await self._conditional_fetch(context, key, target, stored)
        except (UpstreamTimeout, UpstreamFailed) as error:
            if policy.may_serve_stale_on_error(age):
                return CacheOutcome(self._serve(context, stored, age), STALE, "origin-failed")
            return CacheOutcome(upstream_failure(error), MISS)
        if isinstance(fresh, StoredResponse):
            return CacheOutcome(self._serve(context, fresh, self._age(fresh)), HIT, "revalidated")
        if fresh.status in _ERROR_STATUSES and policy.may_serve_stale_on_error(age):
            return CacheOutcome(self._serve(context, stored, age), STALE, "origin-failed")
        return CacheOutcome(self._respond(context, client_response(fresh)), BYPASS)

    async def _conditional_fetch(
        self, context: RequestContext, key: str, target: str, stored: StoredResponse
    ) -> StoredResponse | UpstreamResponse:
        """The refreshed copy (after a 304 or a storable 200), else the origin's response."""
        etag = stored.header("etag")
        validators = [("if-none-match", etag)] if etag else []
        request_time = self._clock.now()
        upstream = await self._forwarder.fetch(
            context, method="GET", target=target, for_cache=True, extra_headers=validators
        )
        authorized = context.forwards_authorization
        if upstream.status == 304 and etag is not None:
            refreshed = self._freshened(stored, upstream, request_time)
            request_headers = context.request.headers.multimap()
            ttl = self._ttl(refreshed)
            if ttl > 0:
                await self._store.store(key, refreshed, request_headers, ttl)
            return refreshed
        kept = await self._keep(context, key, upstream, request_time, authorized)
        return upstream if kept is None else kept

    def _refresh_in_background(
        self, context: RequestContext, key: str, target: str, stored: StoredResponse
    ) -> None:
        if key in self._refreshing:
            return  # one refresh per key at a time
        self._refreshing.add(key)

        async def refresh() -> None:
            try:
                await self._conditional_fetch(context, key, target, stored)
            except (UpstreamTimeout, UpstreamFailed) as error:
                logger.warning("background refresh of %s failed: %s", key, error)
            finally:
                self._refreshing.discard(key)

        self._background.run(refresh())

    async def _keep(
        self,
        context: RequestContext,
        key: str,
        upstream: UpstreamResponse,
        request_time: float,
        authorized: bool,
    ) -> StoredResponse | None:
        """Store ``upstream`` if the rules allow; the stored copy, or ``None``."""
        headers = header_multimap(upstream.headers)
        decision = may_store(
            method="GET",
            status=upstream.status,
            request_has_authorization=authorized,
            response_headers=headers,
        )
        tags = parse_tags(headers.get("cache-tag", ()))
        if not decision.storable or tags.rejected:
            return None
        passed_on = client_response(upstream)
        stored = StoredResponse(
            status=upstream.status,
            headers=[(n, v) for n, v in passed_on.headers if n not in _NOT_STORED],
            body=upstream.body,
            request_time=request_time,
            response_time=self._clock.now(),
            tags=tags.tags,
            vary=vary_names(headers.get("vary", ())) or (),
        )
        ttl = self._ttl(stored)
        if ttl <= 0:
            return None
        request_headers = context.request.headers.multimap()
        if not await self._store.store(key, stored, request_headers, ttl):
            return None  # purged while it was being fetched: this copy is already out of date
        return stored

    async def _write(self, context: RequestContext) -> CacheOutcome:
        try:
            upstream = await self._forwarder.fetch(
                context, method=context.request.method, target=context.target.forwarded()
            )
        except (UpstreamTimeout, UpstreamFailed) as error:
            return CacheOutcome(upstream_failure(error), BYPASS)
        if 200 <= upstream.status < 400:
            await self._after_write(context, upstream)
        return CacheOutcome(client_response(upstream), BYPASS)

    async def _after_write(self, context: RequestContext, upstream: UpstreamResponse) -> None:
        purge = [value for name, value in upstream.headers if name == "purge-tags"]
        tags = parse_tags(purge).tags
        if tags:
            await self._store.purge(tags)
        # RFC 9111 §4.4: a successful unsafe request invalidates its target's stored copy.
        try:
            query = normalise_query(context.target.query, self._config.ignored_query_parameters)
        except QueryTooComplex:
            return
        await self._store.invalidate(cache_key(context.target.path, query))

    async def _pass_through(
        self, context: RequestContext, target: str | None = None
    ) -> CacheOutcome:
        try:
            upstream = await self._forwarder.fetch(
                context, method=context.request.method, target=target or context.target.forwarded()
            )
        except (UpstreamTimeout, UpstreamFailed) as error:
            return CacheOutcome(upstream_failure(error), BYPASS)
        return CacheOutcome(self._respond(context, client_response(upstream)), BYPASS)

    def _serve(self, context: RequestContext, stored: StoredResponse, age: float) -> EdgeResponse:
        headers = [(name, value) for name, value in stored.headers if name != "age"]
        headers.append(("age", str(int(age))))
        if_none_match = context.request.headers.get("if-none-match")
        if stored.status == 200 and if_none_match_matches(if_none_match, stored.header("etag")):
            kept = [(name, value) for name, value in headers if name in _NOT_MODIFIED_HEADERS]
            return EdgeResponse(304, kept, b"")
        return self._respond(context, EdgeResponse(stored.status, headers, stored.body))

    @staticmethod
    def _respond(context: RequestContext, response: EdgeResponse) -> EdgeResponse:
        if context.request.method == "HEAD":
            response.body = b""
        return response

    def _age(self, stored: StoredResponse) -> float:
        return current_age(
            age_header=stored.header("age"),
            date_header=stored.header("date"),
            request_time=stored.request_time,
            response_time=stored.response_time,
            now=self._clock.now(),
        )

    def _ttl(self, stored: StoredResponse) -> float:
        policy = response_policy(stored.header_map())
        retention = policy.retention(self._age(stored), self._config.revalidation_grace_seconds)
        return min(retention, self._config.max_cache_ttl_seconds)

    def _freshened(
        self, stored: StoredResponse, not_modified: UpstreamResponse, request_time: float
    ) -> StoredResponse:
        # The old Age described the old response; without a new one the copy is as old as the 304.
        old = [(name, value) for name, value in stored.headers if name != "age"]
        update = [(n, v) for n, v in client_response(not_modified).headers if n not in _NOT_STORED]
        return StoredResponse(
            status=stored.status,
            headers=freshened_headers(old, update),
            body=stored.body,
            request_time=request_time,
            response_time=self._clock.now(),
            tags=stored.tags,
            vary=stored.vary,
        )
