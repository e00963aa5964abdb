"""Public, cacheable JSON responses: HTTP caching headers for the edge, a Redis copy for the origin.

A cacheable read is rendered once, then served from the key-value store until its time is up or
a write invalidates one of its tags. Every such response carries what a shared cache (the edge,
a CDN) needs: ``Cache-Control`` with ``s-maxage`` and the stale-* extensions, a strong ``ETag``
(``If-None-Match`` answers 304) and ``Cache-Tag`` naming what it depends on, so a purge by tag
reaches the edge as well as the origin's own copy.

A write that makes cached copies stale runs in :func:`invalidating`: its purge is recorded in the
write's own transaction for ``outpost purger`` to send to every Cloudflare location, the origin's
own copies are dropped once it committed, and the edge that forwards the response drops its copies
on ``Purge-Tags``.

The rate limiter reads a request's cached copy ahead, in the same Redis call that spends the
request's budget (:func:`read_ahead_key`, :func:`keep_read_ahead`), so a cached answer costs one
round trip to Redis, not two.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from origin.purge.outbox import check_tag, purge_on_commit
from origin.services import services
from shared.http_cache import QueryTooComplex, normalise_query
from shared.http_cache import cache_key as shared_cache_key

JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How long shared caches may keep a response, and how long they may serve it stale."""

    s_maxage: int = 60
    stale_while_revalidate: int = 30
    stale_if_error: int = 600

    @property
    def cache_control(self) -> str:
        return (
            f"public, max-age=0, s-maxage={self.s_maxage}, "
            f"stale-while-revalidate={self.stale_while_revalidate}, "
            f"stale-if-error={self.stale_if_error}"
        )


@dataclass(frozen=True, slots=True)
class RenderedResponse:
    body: bytes
    etag: str
    tags: tuple[str, ...]

    def pack(self) -> bytes:
        header = json.dumps([self.etag, self.tags], separators=(",", ":")).encode()
        return header + b"\n" + self.body

    @classmethod
    def unpack(cls, packed: bytes) -> RenderedResponse:
        header, _, body = packed.partition(b"\n")
        etag, tags = json.loads(header)
        return cls(body=body, etag=etag, tags=tuple(tags))


def render_json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def cache_key(request: Request) -> str | None:
    """The request's target in the one canonical form the edge keys on too
    (:func:`shared.http_cache.cache_key`: ``?a=1&b=2`` = ``?b=2&a=1``, while ``/a%3Fb=1`` and
    ``/a?b=1`` stay apart); None for a query too complex to key on (such a read is not cached)."""
    # From the scope, as the ASGI server decoded it, like the edge's decoded target: not
    # ``request.url``, which builds a whole URL (host header parsed) and pre-encodes "?" and "#"
    # in the path, to be encoded once more here.
    scope = request.scope
    try:
        # No parameter is ignored here: a route may read any of them.
        query = normalise_query(scope.get("query_string", b"").decode(), ignored=())
    except QueryTooComplex:
        return None
    return "response:" + shared_cache_key(scope["path"], query)


_READ_AHEAD = "cached_response_read_ahead"  # request.state: (key, value or None)
_READ_METHODS = frozenset({"GET", "HEAD"})


def read_ahead_key(request: Request) -> str | None:
    """The key under which a cached answer to ``request`` would be, for reading it ahead; None
    when no cached answer can serve it (not a read, or the response cache is off)."""
    if request.method not in _READ_METHODS or not services(request).settings.response_cache:
        return None
    return cache_key(request)


def keep_read_ahead(request: Request, key: str, value: bytes | None) -> None:
    """Hand what was read under ``key`` (None: nothing) to :func:`cached_json`."""
    setattr(request.state, _READ_AHEAD, (key, value))


async def _cached_copy(request: Request, key: str) -> bytes | None:
    read_ahead = getattr(request.state, _READ_AHEAD, None)
    if read_ahead is not None and read_ahead[0] == key:
        value: bytes | None = read_ahead[1]
        return value
    return await services(request).store.get(key)


async def cached_json(
    request: Request,
    *,
    tags: Iterable[str],
    policy: CachePolicy,
    produce: Callable[[], Awaitable[Any]],
) -> Response:
    """Serve the cached rendering of ``produce()``, rendering and storing it on a miss.

    Errors raised by ``produce`` propagate and are never cached.
    """
    found = services(request)
    store = found.store
    key = cache_key(request) if found.settings.response_cache else None
    packed = await _cached_copy(request, key) if key is not None else None
    if packed is not None:
        rendered = RenderedResponse.unpack(packed)
        outcome = "hit"
    else:
        body = render_json(await produce())
        rendered = RenderedResponse(body=body, etag=strong_etag(body), tags=tuple(tags))
        if key is not None:
            await store.cache_put(key, rendered.pack(), rendered.tags, policy.s_maxage)
            outcome = "miss"
        else:
            outcome = "bypass"
    found.metrics.cache_requests.inc((outcome,))
    return cacheable_response(request, rendered, policy, outcome)


def cacheable_response(
    request: Request, rendered: RenderedResponse, policy: CachePolicy, outcome: str
) -> Response:
    headers = {
        "Cache-Control": policy.cache_control,
        "ETag": rendered.etag,
        "Cache-Tag": ",".join(rendered.tags),
        "X-Origin-Cache": outcome.upper(),
    }
    if etag_matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type=JSON_MEDIA_TYPE, headers=headers)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of ``If-None-Match`` against our ETag (``*`` matches anything)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == ours for candidate in if_none_match.split(",")
    )


async def invalidate(request: Request, tags: Iterable[str]) -> None:
    await services(request).store.invalidate_tags(tags)


@dataclass(frozen=True, slots=True)
class Invalidating:
    """A write's session, and what to tell the edge once the write is done."""

    session: AsyncSession
    tags: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        """``Purge-Tags``: the edge that forwards the response drops its copies at once."""
        return {"Purge-Tags": ",".join(self.tags)}


@asynccontextmanager
async def invalidating(request: Request, tags: Iterable[str]) -> AsyncIterator[Invalidating]:
    """A session for a write that makes the cached copies of ``tags`` stale, everywhere.

    The purge is recorded in the outbox in the write's own transaction (when Cloudflare purging
    is configured; ``outpost purger`` delivers it to every location), so it exists if and only
    if the write committed. Once the block ends without an error, the origin's own copies are
    dropped; the response should carry :attr:`Invalidating.headers`. A new write route::

        async with invalidating(request, ["products", f"product:{id}"]) as write:
            product = await catalog.update_product(write.session, id, changes)
        return JSONResponse(..., headers=write.headers)
    """
    unique = tuple(dict.fromkeys(check_tag(tag) for tag in tags))
    found = services(request)
    async with found.sessions() as session:
        if found.settings.purge.enabled:
            purge_on_commit(session, unique)
        yield Invalidating(session, unique)
    await invalidate(request, unique)
