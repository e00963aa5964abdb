"""What a runtime gives the edge: the ports. The pipeline sees nothing else of its runtime.

Two adapters implement them: :mod:`edge.runtime.cpython.runtime` (httpx, an in-memory LRU, the
``cryptography`` package, asyncio tasks) and the Cloudflare worker (``js.fetch``,
``caches.default``, ``crypto.subtle``, ``ctx.waitUntil``, ``request.cf``). Signature checks use
:class:`shared.jwt.SignatureVerifier`, the port the JWT core already defines.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from edge.http import EdgeRequest
from shared.geofence import Location
from shared.jwt import SignatureVerifier


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """An absolute ``url``; ``headers`` are sent as given (the adapter adds none of its own
    beyond what HTTP/1.1 framing needs: ``Host`` and ``Content-Length``)."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    timeout_seconds: float


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """``headers`` with lowercased names; ``body`` as received (never decompressed)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class UpstreamTimeout(Exception):
    """The upstream did not answer within the timeout (the edge answers 504)."""


class UpstreamFailed(Exception):
    """The upstream could not be reached, reset the connection or answered garbage (502)."""


class Upstream(Protocol):
    async def fetch(self, request: UpstreamRequest) -> UpstreamResponse:
        """Raise :class:`UpstreamTimeout` or :class:`UpstreamFailed`, nothing else."""
        ...


class KeyValueCache(Protocol):
    """A plain cache of bytes by key, with a time to live. Entries may vanish at any time
    (eviction); correctness never depends on one being kept. No tag purge: see
    :mod:`edge.cache_store` for how purging by tag works on top of this."""

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Wall-clock seconds since the epoch (token expiry, cache age)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (durations, rate bounds)."""
        ...


class Randomness(Protocol):
    def token(self, nbytes: int) -> str:
        """``nbytes`` random bytes as unpadded base64url (nonces)."""
        ...

    def hex(self, nbytes: int) -> str:
        """``nbytes`` random bytes as lowercase hex (trace and span ids)."""
        ...


class BackgroundWork(Protocol):
    def run(self, work: Coroutine[Any, Any, None]) -> None:
        """Finish ``work`` after the response has gone (``ctx.waitUntil``); errors are logged."""
        ...


class Geolocator(Protocol):
    def locate(self, request: EdgeRequest) -> Location:
        """Where the client is, from a trusted source only (never a header in production)."""
        ...


@dataclass(frozen=True, slots=True)
class Runtime:
    upstream: Upstream
    cache: KeyValueCache
    verifier: SignatureVerifier
    clock: Clock
    random: Randomness
    background: BackgroundWork
    geolocator: Geolocator
