"""The CPython runtime: the edge's ports for local development, load tests and most tests.

One pool of keep-alive connections reaches the origin (and the JWKS): the lean HTTP/1.1 client
of :mod:`edge.runtime.cpython.http1` by default, or one ``httpx.AsyncClient`` with
``EDGE_UPSTREAM_CLIENT=httpx`` (see that module for why the default is not httpx). An in-memory
LRU holds responses, ``cryptography`` checks signatures, asyncio tasks do background work (tracked,
and awaited at shutdown). The client's country comes from ``CF-IPCountry`` in local mode only;
in production mode there is no geolocation on CPython and every client is judged as ``XX``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from edge.config import ConfigError, EdgeConfig
from edge.http import EdgeRequest
from edge.ports import (
    Runtime,
    UpstreamFailed,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
)
from edge.runtime.cpython.http1 import PooledHttp1Upstream
from edge.runtime.cpython.memory_cache import MemoryCache
from edge.runtime.cpython.signatures import CryptographySignatureVerifier
from edge.runtime.system import SystemClock, SystemRandom
from shared.geofence import Location, location_of_country

logger = logging.getLogger("outpost.edge")

DEFAULT_CACHE_ENTRIES = 10_000
DEFAULT_CACHE_BYTES = 64 * 1_048_576


class HttpxUpstream:
    """Upstream fetches over one shared client: keep-alive connections are reused."""

    def __init__(self, client: httpx.AsyncClient, *, max_body_bytes: int) -> None:
        self._client = client
        self._max_body_bytes = max_body_bytes

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, request: UpstreamRequest) -> UpstreamResponse:
        try:
            # One deadline for the whole exchange: httpx's own timeouts are per read, so a
            # trickling origin could otherwise hold the request forever.
            async with asyncio.timeout(request.timeout_seconds):
                return await self._exchange(request)
        except (TimeoutError, httpx.TimeoutException):
            raise UpstreamTimeout(f"no answer from {request.url} in time") from None
        except httpx.HTTPError as error:
            raise UpstreamFailed(f"{type(error).__name__}: {error}") from None

    async def _exchange(self, request: UpstreamRequest) -> UpstreamResponse:
        outgoing = self._client.build_request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.body or None,
        )
        response = await self._client.send(outgoing, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_raw():  # raw: never decompressed
                body += chunk
                if len(body) > self._max_body_bytes:
                    raise UpstreamFailed("the origin's response is too large")
        finally:
            await response.aclose()
        headers = [
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in response.headers.raw
        ]
        return UpstreamResponse(response.status_code, headers, bytes(body))


class AsyncioBackground:
    """``waitUntil`` on asyncio: tasks are kept (so they are not collected mid-flight) and
    awaited by :meth:`drain` at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout_seconds: float = 10.0) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_seconds)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background work failed", exc_info=task.exception())


class HeaderGeolocator:
    """Local mode: ``CF-IPCountry`` as Cloudflare would set it. Never use on the internet."""

    def locate(self, request: EdgeRequest) -> Location:
        value = request.headers.get("cf-ipcountry")
        return location_of_country(value.strip().upper() if value else None)


class NoGeolocator:
    """Production mode on CPython: nothing trustworthy says where the client is."""

    def locate(self, request: EdgeRequest) -> Location:
        return Location(country=None)


@asynccontextmanager
async def cpython_runtime(
    config: EdgeConfig, env: Mapping[str, str] | None = None
) -> AsyncIterator[Runtime]:
    """The ports, open for as long as the block runs; background work is awaited on exit."""
    settings = env or {}
    cache = MemoryCache(
        max_entries=_int(settings, "EDGE_CACHE_MAX_ENTRIES", DEFAULT_CACHE_ENTRIES),
        max_bytes=_int(settings, "EDGE_CACHE_MAX_BYTES", DEFAULT_CACHE_BYTES),
    )
    background = AsyncioBackground()
    upstream = _upstream(settings.get("EDGE_UPSTREAM_CLIENT") or "http1", config)
    try:
        yield Runtime(
            upstream=upstream,
            cache=cache,
            verifier=CryptographySignatureVerifier(),
            clock=SystemClock(),
            random=SystemRandom(),
            background=background,
            geolocator=HeaderGeolocator() if config.is_local else NoGeolocator(),
        )
    finally:
        await background.drain()
        await upstream.aclose()


def _upstream(name: str, config: EdgeConfig) -> PooledHttp1Upstream | HttpxUpstream:
    max_body = config.limits.max_upstream_body_bytes
    if name == "http1":
        return PooledHttp1Upstream(max_body_bytes=max_body)
    if name == "httpx":
        client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            timeout=httpx.Timeout(config.origin_timeout_seconds),
            follow_redirects=False,
            trust_env=False,  # no proxies from the environment between the edge and its origin
        )
        client.headers.clear()  # send exactly the headers the pipeline chose
        return HttpxUpstream(client, max_body_bytes=max_body)
    raise ConfigError(f"EDGE_UPSTREAM_CLIENT={name!r}: expected http1 or httpx")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number") from None
    if value < 1:
        raise ConfigError(f"{name}={raw!r}: must be positive")
    return value
