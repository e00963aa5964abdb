"""Who is calling: the origin's :data:`~origin.services.Authenticator`.

In order:

1. An ``X-Outpost-Assertion`` header (the edge vouching for the request, see
   :mod:`shared.assertion`): checked (MAC, method and path, age) and its nonce spent (in the
   rate limiter's store call when it offers one). A valid one
   with a subject is the principal, country included, once the session it names (if any) is
   checked against the revocation list; a forged, stale or replayed one is 401. The session
   travels in the assertion, not in the client's token: a token the client had the edge drop
   (``Connection: authorization``) cannot escape revocation. An anonymous assertion still vouches
   for the country, and a bearer token, if any, is then checked here.
2. ``Authorization: Bearer <token>``: verified by :mod:`origin.identity.verification`, then its
   session (``sid``) is checked against the revocation list. Any failure is the same 401 with
   ``WWW-Authenticate: Bearer error="invalid_token"``; the reason goes to the log only.
3. Nothing: ``None`` (anonymous).

Headers a client could set to claim an identity or a place (``X-Outpost-Subject``,
``CF-IPCountry``, ...) are never read: only a valid assertion speaks for the edge.

A refusal is remembered for the request, so the rate limiter (which asks first) and the route
(which asks again) see the same answer without paying for it twice. The rate limiter asks with
an offer to read the session's revocation marker and claim the assertion's nonce in its own
store call (:func:`origin.principals.offer_deferred_checks`): neither costs a round trip of its
own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.types import Scope

from origin.errors import ApiError
from origin.identity.external import JwksUnavailable
from origin.identity.keys import KeyringError
from origin.identity.replay import NonceGuard, nonce_key
from origin.identity.revocation import RevocationList, marker_key
from origin.identity.verification import TokenVerifier
from origin.principals import DeferredCheck, Vouched, defer_check, vouch, withdraw_principal
from origin.services import services
from shared.assertion import ASSERTION_HEADER, Assertion, AssertionInvalid, verify_assertion
from shared.jwt import (
    SAFE_DESCRIPTIONS,
    TokenInvalid,
    www_authenticate_header,
)
from shared.principal import Principal

logger = logging.getLogger("outpost.origin.identity")

SESSION_ID_SCOPE_KEY = "outpost.identity.session_id"
_REFUSAL_SCOPE_KEY = "outpost.identity.refusal"
ASSERTION_MAX_AGE_SECONDS = 30.0
ASSERTION_MAX_SKEW_SECONDS = 5.0


def invalid_token() -> ApiError:
    return ApiError(
        401,
        "invalid_token",
        SAFE_DESCRIPTIONS["invalid_token"],
        headers={"WWW-Authenticate": www_authenticate_header("invalid_token")},
    )


def invalid_assertion() -> ApiError:
    return ApiError(
        401,
        "invalid_assertion",
        "the edge assertion is not valid",
        headers={"WWW-Authenticate": 'Bearer realm="outpost"'},
    )


def keys_unavailable() -> ApiError:
    return ApiError(503, "keys_unavailable", "the signing keys cannot be read; retry shortly")


def session_id_of(request: Request) -> str | None:
    """The origin session of the request's access token (set once the caller is authenticated)."""
    found = request.scope.get(SESSION_ID_SCOPE_KEY)
    return found if isinstance(found, str) else None


def bearer_credentials(authorization: str | None) -> str | None:
    """The token of ``Bearer <token>``; ``None`` when the header is absent or another scheme.

    Exactly one space separates scheme and token: anything else is a malformed token, refused,
    rather than text to be tidied into one.
    """
    if authorization is None:
        return None
    scheme, _, credentials = authorization.partition(" ")
    return credentials if scheme.lower() == "bearer" else None


def request_target(scope: Scope) -> str:
    """Path and query as the request line carried them: what the edge signed."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    target = raw_path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


class Authenticator:
    def __init__(
        self,
        *,
        tokens: TokenVerifier,
        edge_secrets: Mapping[str, bytes],
        nonces: NonceGuard,
        revocations: RevocationList,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = tokens
        self._edge_secrets = dict(edge_secrets)
        self._nonces = nonces
        self._revocations = revocations
        self._clock = clock

    async def __call__(self, request: Request) -> Principal | None:
        refusal = request.scope.get(_REFUSAL_SCOPE_KEY)
        if isinstance(refusal, ApiError):
            raise refusal
        try:
            return await self._authenticate(request)
        except ApiError as error:
            request.scope[_REFUSAL_SCOPE_KEY] = error
            raise

    async def _authenticate(self, request: Request) -> Principal | None:
        now = self._clock()
        country = None
        header = request.headers.get(ASSERTION_HEADER)
        if header is not None:
            assertion = await self._checked_assertion(request, header, now)
            vouch(request, Vouched(country=assertion.country, client=assertion.client))
            principal = assertion.principal()
            if principal is not None:
                if assertion.session_id is not None:
                    await self._refuse_revoked(request, assertion.session_id)
                return principal
            country = assertion.country
        token = bearer_credentials(request.headers.get("authorization"))
        if token is None:
            return None
        return await self._token_principal(request, token, country, now)

    async def _checked_assertion(self, request: Request, header: str, now: float) -> Assertion:
        try:
            assertion = verify_assertion(
                header,
                secrets=self._edge_secrets,
                method=request.method,
                path=request_target(request.scope),
                now=now,
                max_age_seconds=ASSERTION_MAX_AGE_SECONDS,
                max_skew_seconds=ASSERTION_MAX_SKEW_SECONDS,
            )
        except AssertionInvalid as error:
            raise _refused_assertion(request, error.reason.value) from None
        await self._spend_nonce(request, assertion, now)
        return assertion

    async def _spend_nonce(self, request: Request, assertion: Assertion, now: float) -> None:
        """Refuse a replayed assertion: at once, or in the rate limiter's store call."""
        nonces, nonce, expires_at = self._nonces, assertion.nonce, assertion.nonce_expires_at
        if nonces.seen_locally(nonce, now):
            raise _refused_assertion(request, "replayed")

        async def conclude(held: bytes | None, answered: bool) -> None:
            if not nonces.settle(nonce, held, answered=answered, expires_at=expires_at, now=now):
                error = _refused_assertion(request, "replayed")
                request.scope[_REFUSAL_SCOPE_KEY] = error
                withdraw_principal(request, unvouch=True)
                raise error

        check = DeferredCheck(
            nonce_key(nonce), conclude, claim_ttl_seconds=nonces.claim_ttl(expires_at, now)
        )
        deferred = defer_check(request, check)
        if not deferred and not await nonces.first_use(nonce, expires_at=expires_at, now=now):
            raise _refused_assertion(request, "replayed")

    async def _token_principal(
        self, request: Request, token: str, country: str | None, now: float
    ) -> Principal:
        try:
            verified = await self._tokens.verify(token, now=now)
        except TokenInvalid as error:
            raise _refused_token(request, error.reason.value) from None
        except JwksUnavailable:
            raise ApiError(
                503,
                "identity_provider_unavailable",
                "the identity provider's keys cannot be fetched; retry shortly",
                headers={"Retry-After": "5"},
            ) from None
        except KeyringError:
            logger.exception("the signing keys cannot be read")
            raise keys_unavailable() from None
        if verified.session_id is not None:
            await self._refuse_revoked(request, verified.session_id)
        return verified.principal(country)

    async def _refuse_revoked(self, request: Request, session_id: str) -> None:
        async def conclude(marker: bytes | None, answered: bool) -> None:
            if await self._revocations.judge(session_id, marker, answered=answered):
                error = _refused_token(request, "session_revoked")
                request.scope[_REFUSAL_SCOPE_KEY] = error
                withdraw_principal(request)
                raise error
            request.scope[SESSION_ID_SCOPE_KEY] = session_id

        if not defer_check(request, DeferredCheck(marker_key(session_id), conclude)):
            if await self._revocations.is_revoked(session_id):
                raise _refused_token(request, "session_revoked")
            request.scope[SESSION_ID_SCOPE_KEY] = session_id


def _refused_assertion(request: Request, reason: str) -> ApiError:
    """Log and count a refused edge assertion (``reason``: one of a fixed set)."""
    logger.warning("edge assertion refused", extra={"reason": reason})
    services(request).metrics.assertion_refusals.inc((reason,))
    return invalid_assertion()


def _refused_token(request: Request, reason: str) -> ApiError:
    """Log and count a refused bearer token (``reason``: one of a fixed set)."""
    logger.info("bearer token refused", extra={"reason": reason})
    services(request).metrics.token_refusals.inc((reason,))
    return invalid_token()
