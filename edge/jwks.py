"""The origin's signing keys at the edge: its JWKS, fetched through the upstream port and kept.

The key set is refetched when it is older than ``max_age``, and early when a token names a
``kid`` the set lacks (a key rotation) — but never more often than once per
``refetch_interval``, so tokens with made-up kids cannot turn the edge into a JWKS flood. A
failed fetch keeps the keys already held; only an edge that never got any answers 503.
"""

from __future__ import annotations

import asyncio
import logging

from edge.ports import Clock, Upstream, UpstreamFailed, UpstreamRequest, UpstreamTimeout
from shared.jwt import JwksInvalid, KeySet, parse_jwks

logger = logging.getLogger("outpost.edge")

MAX_JWKS_BYTES = 65_536
FETCH_TIMEOUT_SECONDS = 5.0


class JwksUnavailable(Exception):
    """No key set has ever been fetched, so no token can be checked."""


class JwksCache:
    def __init__(
        self,
        *,
        url: str,
        upstream: Upstream,
        clock: Clock,
        max_age_seconds: float,
        refetch_interval_seconds: float,
    ) -> None:
        self._url = url
        self._upstream = upstream
        self._clock = clock
        self._max_age = max_age_seconds
        self._interval = refetch_interval_seconds
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def keys(self) -> KeySet:
        now = self._clock.monotonic()
        if now - self._fetched_at >= self._max_age:
            if self._lock.locked():
                await self._refresh_in_progress()
            elif self._may_attempt(now):
                await self._refresh()
        if self._keys is None:
            raise JwksUnavailable
        return self._keys

    async def refresh_for_unknown_kid(self) -> bool:
        """Refetch if the rate bound allows; ``True`` when a new key set arrived."""
        before = self._keys
        if self._lock.locked():
            await self._refresh_in_progress()
        elif self._may_attempt(self._clock.monotonic()):
            await self._refresh()
        return self._keys is not before

    async def _refresh_in_progress(self) -> None:
        """Wait for the fetch another request started, and use its result."""
        async with self._lock:
            pass

    def _may_attempt(self, now: float) -> bool:
        return now - self._attempted_at >= self._interval

    async def _refresh(self) -> None:
        async with self._lock:
            self._attempted_at = self._clock.monotonic()
            self.fetches += 1
            try:
                self._keys = await self._fetch()
                self._fetched_at = self._attempted_at
            except (UpstreamFailed, UpstreamTimeout, JwksInvalid) as error:
                logger.warning("JWKS fetch from %s failed: %s", self._url, error)

    async def _fetch(self) -> KeySet:
        request = UpstreamRequest(
            method="GET",
            url=self._url,
            headers=[("accept", "application/json"), ("accept-encoding", "identity")],
            body=b"",
            timeout_seconds=FETCH_TIMEOUT_SECONDS,
        )
        response = await self._upstream.fetch(request)
        if response.status != 200:
            raise JwksInvalid(f"the JWKS endpoint answered {response.status}")
        if len(response.body) > MAX_JWKS_BYTES:
            raise JwksInvalid("the JWKS is too large")
        keys = parse_jwks(response.body, allow_symmetric=False)
        for skipped in keys.skipped:
            logger.warning("JWKS key %s skipped: %s", skipped.kid, skipped.why)
        return keys
