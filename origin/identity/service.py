"""The identity service: built from settings by ``create_app``, started by its lifespan.

It owns what authentication and the ``/auth`` routes share: the keyring, the token policy, the
verifier (own and external issuers), the revocation list, the nonce guard and the limiter that
keeps password hashing off the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request

from origin.identity.authenticator import Authenticator
from origin.identity.external import ExternalIssuer, RemoteKeySet
from origin.identity.keyring_file import KeyringSource, ensure_dev_keyring, keyring_source
from origin.identity.passwords import hashing_limiter
from origin.identity.replay import NonceGuard
from origin.identity.revocation import RevocationList
from origin.identity.signature import PyJwtSignatureVerifier
from origin.identity.tokens import TokenPolicy, mint_access_token
from origin.identity.verification import TokenVerifier, TrustedIssuer
from origin.kv import Store
from origin.settings import Settings
from shared.principal import Principal

logger = logging.getLogger("outpost.origin.identity")

JWKS_FETCH_TIMEOUT_SECONDS = 5.0


def token_policy(settings: Settings) -> TokenPolicy:
    return TokenPolicy(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl_seconds=settings.access_token_ttl_seconds,
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
    )


def external_issuers(settings: Settings) -> list[ExternalIssuer]:
    issuer, audience, url = (
        settings.external_issuer,
        settings.external_audience,
        settings.external_jwks_url,
    )
    # Settings accept all three or none.
    if issuer is None or audience is None or url is None:
        return []
    return [ExternalIssuer(issuer=issuer, audience=audience, jwks_url=url)]


def default_grace_seconds(settings: Settings) -> int:
    """The shortest grace after which no token signed by a rotated-out key is still valid."""
    return settings.access_token_ttl_seconds + settings.jwt_leeway_seconds


@dataclass(frozen=True, slots=True)
class _Running:
    store: Store
    sessions: async_sessionmaker[AsyncSession]
    revocations: RevocationList
    authenticator: Authenticator
    hashing: anyio.CapacityLimiter


class Identity:
    """``clock`` (seconds since the epoch) and ``monotonic`` can be replaced in tests."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.keyring: KeyringSource = keyring_source(settings)
        self.policy = token_policy(settings)
        self._http: httpx.AsyncClient | None = None
        leeway = float(settings.jwt_leeway_seconds)
        self.external = [
            TrustedIssuer(
                issuer,
                RemoteKeySet(issuer.jwks_url, self.http, clock=monotonic),
                issuer.policy(leeway),
            )
            for issuer in external_issuers(settings)
        ]
        self.tokens = TokenVerifier(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_seconds=leeway,
            keyring=self.keyring,
            signatures=PyJwtSignatureVerifier(),
            external=self.external,
        )
        self._running: _Running | None = None

    async def start(self, *, store: Store, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Make sure keys exist (development creates them), then connect the parts."""
        created = ensure_dev_keyring(self.settings)
        if created is not None:
            logger.warning("created a development signing key", extra={"path": str(created)})
        self.keyring.keyring()  # a missing or broken keyring stops the start, with its reason
        if self.external:
            self._http = httpx.AsyncClient(
                timeout=JWKS_FETCH_TIMEOUT_SECONDS,
                follow_redirects=False,
                headers={"User-Agent": "outpost-origin"},
            )
        revocations = RevocationList(
            store,
            sessions,
            marker_ttl_seconds=self.settings.access_token_ttl_seconds
            + self.settings.jwt_leeway_seconds,
            clock=self.clock,
        )
        await revocations.refill()
        self._running = _Running(
            store=store,
            sessions=sessions,
            revocations=revocations,
            authenticator=Authenticator(
                tokens=self.tokens,
                edge_secrets=self.settings.edge_secret_map,
                nonces=NonceGuard(store),
                revocations=revocations,
                clock=self.clock,
            ),
            hashing=hashing_limiter(),
        )

    async def aclose(self) -> None:
        self._running = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def authenticate(self, request: Request) -> Principal | None:
        """The app's authenticator (``Services.authenticator``)."""
        return await self.running.authenticator(request)

    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("the identity service is not started")
        return self._http

    @property
    def running(self) -> _Running:
        if self._running is None:
            raise RuntimeError("the identity service is not started (the app's lifespan does it)")
        return self._running

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    @property
    def refresh_ttl(self) -> timedelta:
        return timedelta(seconds=self.policy.refresh_ttl_seconds)

    def mint(
        self,
        *,
        subject: str,
        roles: Iterable[str],
        session_id: str | None,
        ttl_seconds: int | None = None,
    ) -> str:
        """An access token signed with the current key."""
        return mint_access_token(
            self.keyring.keyring().signing_key(),
            self.policy,
            subject=subject,
            roles=roles,
            session_id=session_id,
            now=int(self.clock()),
            ttl_seconds=ttl_seconds,
        )


def identity_of(request: Request) -> Identity:
    found: Identity = request.app.state.identity
    return found
