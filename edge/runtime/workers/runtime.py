"""The Pyodide runtime: the edge's ports over what a Cloudflare Python Worker is given.

- upstream: ``fetch`` with ``AbortSignal.timeout`` (one deadline for the whole exchange, body
  included), redirects passed on, bodies read to bytes with a size bound;
- cache: ``caches.default`` (data-center local; does nothing on ``*.workers.dev``), string keys
  mapped to URLs on a reserved host (:mod:`edge.runtime.workers.mapping`), TTL as ``s-maxage``;
- signatures: Web Crypto (:mod:`edge.runtime.workers.webcrypto`);
- background work and geolocation belong to one request (its ``ctx``, its ``request.cf``) while
  the runtime lives as long as the isolate, so the worker binds them per request with
  :func:`request_scope`, a context variable each request's task sees on its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import JsException, jsnull, to_js  # type: ignore[import-not-found]

from edge.config import EdgeConfig
from edge.http import EdgeRequest
from edge.ports import Runtime, UpstreamFailed, UpstreamRequest, UpstreamResponse, UpstreamTimeout
from edge.runtime.system import SystemClock, SystemRandom
from edge.runtime.workers.mapping import (
    DEFAULT_CACHE_KEY_HOST,
    cache_control_for_ttl,
    cache_key_url,
    cache_tag_of,
    decoded_body_headers,
    sendable_headers,
)
from edge.runtime.workers.webcrypto import WebCryptoSignatureVerifier, js_object
from shared.geofence import Location

logger = logging.getLogger("outpost.edge")

# The runtime frames the request itself and refuses some of these outright (undici throws on
# `expect`, `connection`, `transfer-encoding`); the origin's Host comes from the URL.
_RUNTIME_OWNED_HEADERS = frozenset(
    {"host", "content-length", "expect", "connection", "keep-alive", "transfer-encoding"}
)
_NO_REQUEST_BODY = frozenset({"GET", "HEAD"})
_TIMEOUT_ERRORS = frozenset({"TimeoutError", "AbortError"})


def header_pairs(js_headers: Any) -> list[tuple[str, str]]:
    """A JS ``Headers`` as (lowercased name, value) pairs, in one conversion (each separate
    Set-Cookie stays separate, as Headers iteration yields them)."""
    return [(str(name), str(value)) for name, value in js.Array.from_(js_headers).to_py()]


def js_headers(pairs: list[tuple[str, str]]) -> Any:
    return js.Headers.new(to_js([list(pair) for pair in pairs]))


async def read_body(js_body_owner: Any, limit: int) -> bytes:
    """The body of a JS Request/Response as bytes, or only its first ``limit + 1`` bytes when it
    is longer (reading stops there): callers tell "too large" by the length. A declared length
    within the limit is read in one call."""
    # A missing header or body is JS null, which Pyodide passes as `jsnull`, not None.
    declared = js_body_owner.headers.get("content-length")
    if isinstance(declared, str) and declared.isdigit() and int(declared) <= limit:
        # The declared length is the encoded one; a decoded body can be far larger.
        return bytes((await js_body_owner.arrayBuffer()).to_bytes()[: limit + 1])
    stream = js_body_owner.body
    if stream is None or stream is jsnull:
        return b""
    reader = stream.getReader()
    buffer = bytearray()
    try:
        while len(buffer) <= limit:
            chunk = await reader.read()
            if chunk.done:
                break
            buffer += chunk.value.to_bytes()
        else:
            await reader.cancel()
    finally:
        reader.releaseLock()
    return bytes(buffer[: limit + 1])


class JsFetchUpstream:
    def __init__(self, *, max_body_bytes: int) -> None:
        self._max_body_bytes = max_body_bytes

    async def fetch(self, request: UpstreamRequest) -> UpstreamResponse:
        try:
            response = await js.fetch(request.url, self._init(request))
            body = await read_body(response, self._max_body_bytes)
        except JsException as error:
            if getattr(error, "name", None) in _TIMEOUT_ERRORS:
                raise UpstreamTimeout(f"no answer from {request.url} in time") from None
            raise UpstreamFailed(f"{getattr(error, 'name', 'Error')}: {error}") from None
        if len(body) > self._max_body_bytes:
            raise UpstreamFailed("the origin's response is too large")
        headers = header_pairs(response.headers)
        if not sendable_headers(headers):
            raise UpstreamFailed("the origin sent a header the edge cannot pass on")
        return UpstreamResponse(int(response.status), decoded_body_headers(headers), body)

    @staticmethod
    def _init(request: UpstreamRequest) -> Any:
        headers = [pair for pair in request.headers if pair[0] not in _RUNTIME_OWNED_HEADERS]
        init: dict[str, Any] = {
            "method": request.method,
            "headers": js_headers(headers),
            "redirect": "manual",  # the client follows redirects, not the edge
            "signal": js.AbortSignal.timeout(max(1, round(request.timeout_seconds * 1000))),
        }
        if request.body and request.method not in _NO_REQUEST_BODY:
            init["body"] = to_js(request.body)
        return js_object(init)


class CacheApiStore:
    """The key-value cache port over a Cache API cache (``caches.default``)."""

    def __init__(self, cache: Any, *, key_host: str = DEFAULT_CACHE_KEY_HOST) -> None:
        self._cache = cache
        self._key_host = key_host

    async def get(self, key: str) -> bytes | None:
        found = await self._cache.match(cache_key_url(key, self._key_host))
        if found is None:
            return None
        return bytes((await found.arrayBuffer()).to_bytes())

    async def put(self, key: str, value: bytes, ttl_seconds: float) -> None:
        url = cache_key_url(key, self._key_host)
        if ttl_seconds <= 0:
            await self._cache.delete(url)
            return
        headers = [
            ("content-type", "application/octet-stream"),
            ("cache-control", cache_control_for_ttl(ttl_seconds)),
        ]
        tag = cache_tag_of(key)
        if tag is not None:
            headers.append(("cache-tag", tag))
        stored = js.Response.new(to_js(value), js_object({"headers": js_headers(headers)}))
        await self._cache.put(url, stored)

    async def delete(self, key: str) -> None:
        await self._cache.delete(cache_key_url(key, self._key_host))


_request_ctx: ContextVar[Any] = ContextVar("outpost_request_ctx", default=None)
_request_location: ContextVar[Location | None] = ContextVar(
    "outpost_request_location", default=None
)


@contextmanager
def request_scope(ctx: Any, location: Location) -> Iterator[None]:
    """Binds this request's ``ctx`` and ``request.cf`` location for the ports below."""
    ctx_token = _request_ctx.set(ctx)
    location_token = _request_location.set(location)
    try:
        yield
    finally:
        _request_location.reset(location_token)
        _request_ctx.reset(ctx_token)


class WaitUntilBackground:
    """Background work kept alive past the response by the current request's ``ctx.waitUntil``."""

    def __init__(self) -> None:
        self._unowned: set[asyncio.Task[None]] = set()

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        task.add_done_callback(_log_failure)
        ctx = _request_ctx.get()
        if ctx is not None:
            ctx.waitUntil(task)
        else:
            # No request to attach to (should not happen): at least keep the task referenced.
            self._unowned.add(task)
            task.add_done_callback(self._unowned.discard)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("background work failed", exc_info=task.exception())


class CfGeolocator:
    """Where Cloudflare says the client is (``request.cf``), bound per request."""

    def locate(self, request: EdgeRequest) -> Location:
        return _request_location.get() or Location(country=None)


def pyodide_runtime(config: EdgeConfig, *, cache: Any, cache_key_host: str | None) -> Runtime:
    """The ports for one isolate; ``cache`` is a Cache API cache (``caches.default``)."""
    return Runtime(
        upstream=JsFetchUpstream(max_body_bytes=config.limits.max_upstream_body_bytes),
        cache=CacheApiStore(cache, key_host=cache_key_host or DEFAULT_CACHE_KEY_HOST),
        verifier=WebCryptoSignatureVerifier(),
        clock=SystemClock(),
        random=SystemRandom(),
        background=WaitUntilBackground(),
        geolocator=CfGeolocator(),
    )
