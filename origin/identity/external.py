"""Tokens from an external identity provider (Auth0, Cloudflare Access, Keycloak, ...).

They go through the same ``shared.jwt`` core as the origin's own tokens, with the provider's
issuer, audience and keys. The keys come from the provider's JWKS URL and are cached:

- for ``ttl_seconds`` (then re-fetched on the next token that needs them);
- an unknown ``kid`` triggers a re-fetch (the provider may have rotated), but at most once per
  ``min_refetch_seconds``: a flood of tokens with random ``kid`` values costs one fetch, not one
  per token. Concurrent requests share one fetch (a lock, then a second look).
- when a fetch fails, the keys we have keep serving; with none at all, tokens from the provider
  are answered 503 (our problem, not the client's) and fetches are retried after
  ``failure_backoff_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from shared.jwt import JwksInvalid, KeySet, VerificationPolicy, parse_jwks

logger = logging.getLogger("outpost.origin.identity")

# Asymmetric only: a provider's JWKS is public, so a secret in it would be no secret.
EXTERNAL_ALGORITHMS = frozenset({"RS256", "PS256", "ES256", "ES384", "EdDSA"})
MAX_JWKS_BYTES = 256 * 1024


class JwksUnavailable(Exception):
    """The provider's keys could not be fetched, and none are cached."""


@dataclass(frozen=True, slots=True)
class ExternalIssuer:
    issuer: str
    audience: str
    jwks_url: str
    algorithms: frozenset[str] = EXTERNAL_ALGORITHMS

    def policy(self, leeway_seconds: float) -> VerificationPolicy:
        return VerificationPolicy(
            issuer=self.issuer,
            audience=self.audience,
            algorithms=self.algorithms,
            leeway_seconds=leeway_seconds,
        )


class RemoteKeySet:
    """A JWKS fetched from ``url`` with ``client``, cached, re-fetched at a bounded rate."""

    def __init__(
        self,
        url: str,
        client: Callable[[], httpx.AsyncClient],
        *,
        ttl_seconds: float = 300.0,
        min_refetch_seconds: float = 30.0,
        failure_backoff_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._client = client
        self._ttl = ttl_seconds
        self._min_refetch = min_refetch_seconds
        self._failure_backoff = failure_backoff_seconds
        self._clock = clock
        self._keys: KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    async def keys_for(self, kid: str) -> KeySet:
        """The key set to verify a token whose header names ``kid``."""
        if self._needs_fetch(kid):
            async with self._lock:
                if self._needs_fetch(kid):  # another request may have fetched while we waited
                    await self._fetch()
        if self._keys is None:
            raise JwksUnavailable(f"no keys from {self.url} yet")
        return self._keys

    def _needs_fetch(self, kid: str) -> bool:
        now = self._clock()
        since_attempt = now - self._attempted_at
        if self._keys is None:
            return since_attempt >= self._failure_backoff
        if now - self._fetched_at >= self._ttl:
            return since_attempt >= self._failure_backoff
        return kid not in self._kids and since_attempt >= self._min_refetch

    async def _fetch(self) -> None:
        self._attempted_at = self._clock()
        self.fetch_count += 1
        try:
            keys = parse_jwks(await self._download())
        except (httpx.HTTPError, JwksInvalid, ValueError) as error:
            logger.warning(
                "could not fetch the external issuer's JWKS",
                extra={"jwks_url": self.url, "error": f"{type(error).__name__}: {error}"},
            )
            return
        for skipped in keys.skipped:
            logger.info(
                "external JWKS key left out",
                extra={"jwks_url": self.url, "kid": skipped.kid, "why": skipped.why},
            )
        self._keys = keys
        self._kids = frozenset(key.kid for key in keys)
        self._fetched_at = self._attempted_at

    async def _download(self) -> bytes:
        async with self._client().stream("GET", self.url) as response:
            if response.status_code != 200:
                raise ValueError(f"answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
            return bytes(body)
