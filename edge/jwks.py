"""The origin's signing keys at the edge: its JWKS, fetched through the upstream port and kept.

The key set is refetched when it is older than ``max_age``, and early when a token names a
``kid`` the set lacks (a key rotation) — but never more often than once per
``refetch_interval``, so tokens with made-up kids cannot turn the edge into a JWKS flood. A
failed fetch keeps the keys already held; only an edge that never got any answers 503.

A request never waits for a fetch another request started: on Cloudflare's runtime each request
has its own I/O context, and workerd cancels a request that waits on I/O it does not own ("your
Worker's code had hung"). While a refresh is in flight, other requests use the keys already held;
only before any key set has arrived does a request fetch one itself.
"""

from __future__ import annotations

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
        self._in_flight = 0
        self.fetches = 0

    async def keys(self) -> KeySet:
        now = self._clock.monotonic()
        if now - self._fetched_at >= self._max_age:
            if self._in_flight and self._keys is None:
                await self._refresh()  # nothing to use meanwhile, and waiting is not allowed
            elif not self._in_flight and self._may_attempt(now):
                await self._refresh()
        if self._keys is None:
            raise JwksUnavailable
        return self._keys

    async def refresh_for_unknown_kid(self) -> bool:
        """Refetch if the rate bound allows and no fetch is in flight; ``True`` when a new key
        set arrived."""
        before = self._keys
        if not self._in_flight and self._may_attempt(self._clock.monotonic()):
            await self._refresh()
        return self._keys is not before

    def _may_attempt(self, now: float) -> bool:
        return now - self._attempted_at >= self._interval

    async def _refresh(self) -> None:
        attempted_at = self._attempted_at = self._clock.monotonic()
        self.fetches += 1
        self._in_flight += 1
        try:
            self._keys = await self._fetch()
            self._fetched_at = max(self._fetched_at, attempted_at)
        except (UpstreamFailed, UpstreamTimeout, JwksInvalid) as error:
            logger.warning("JWKS fetch from %s failed: %s", self._url, error)
        finally:
            self._in_flight -= 1

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
