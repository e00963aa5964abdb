"""The auth step: the route table says whether a bearer token is needed, and the shared JWT core
checks it against the origin's published keys.

Refusals follow RFC 6750: 401 with ``WWW-Authenticate: Bearer`` (no token, or a bad one; the
client never learns which check failed, the log does), 403 ``insufficient_scope`` for a missing
role, and 503 when no key set could ever be fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from edge.answers import EarlyAnswer, json_response, refuse
from edge.http import EdgeResponse
from edge.jwks import JwksCache, JwksUnavailable
from edge.ports import Clock
from shared.jwt import (
    SAFE_DESCRIPTIONS,
    SignatureVerifier,
    TokenErrorReason,
    TokenInvalid,
    VerificationPolicy,
    VerifiedToken,
    invalid_token_body,
    verify_token,
    www_authenticate_header,
)
from shared.routes import Auth, RouteRule

logger = logging.getLogger("outpost.edge")


class Authenticator:
    def __init__(
        self,
        *,
        policy: VerificationPolicy,
        jwks: JwksCache,
        verifier: SignatureVerifier,
        clock: Clock,
        realm: str,
    ) -> None:
        self._policy = policy
        self._jwks = jwks
        self._verifier = verifier
        self._clock = clock
        self._realm = realm

    async def authenticate(
        self, route: RouteRule, authorization: Sequence[str]
    ) -> VerifiedToken | None:
        """The caller's verified token, ``None`` for an anonymous caller the route admits."""
        if route.auth is Auth.PUBLIC:
            return None
        token = self._bearer_token(route, authorization)
        if token is None:
            return None
        verified = await self._verify(token)
        missing = route.roles - verified.roles
        if missing:
            raise refuse(
                403,
                "forbidden",
                f"this route needs the role {', '.join(sorted(missing))}",
                [("www-authenticate", self._challenge("insufficient_scope"))],
            )
        return verified

    def _bearer_token(self, route: RouteRule, authorization: Sequence[str]) -> str | None:
        if not authorization:
            if route.auth is Auth.REQUIRED:
                raise refuse(
                    401,
                    "unauthorized",
                    "this route needs a bearer token",
                    [("www-authenticate", self._challenge(None))],
                )
            return None
        if len(authorization) > 1:
            raise self._invalid_request()
        scheme, _, token = authorization[0].partition(" ")
        if scheme.lower() != "bearer":
            if route.auth is Auth.REQUIRED:
                raise self._invalid_request()
            return None  # another scheme on an optional route: the origin's business
        if "," in token:
            # A bearer token (RFC 6750 b64token) has no comma; a comma means several credentials
            # joined into one field, which is how Fetch-API runtimes (Pyodide, Workers) present
            # repeated Authorization headers: the same refusal as two separate fields.
            raise self._invalid_request()
        # Exactly one space: a token with its own leading whitespace is refused, not trimmed.
        return token

    async def _verify(self, token: str) -> VerifiedToken:
        try:
            try:
                return await self._verify_with_current_keys(token)
            except TokenInvalid as error:
                if error.reason is not TokenErrorReason.UNKNOWN_KEY:
                    raise
                if not await self._jwks.refresh_for_unknown_kid():
                    raise
                return await self._verify_with_current_keys(token)
        except TokenInvalid as error:
            logger.info("bearer token refused: %s", error.reason.value)
            raise EarlyAnswer(self._invalid_token()) from None
        except JwksUnavailable:
            raise refuse(
                503,
                "keys_unavailable",
                "the edge cannot check tokens right now; retry shortly",
                [("retry-after", "5")],
            ) from None

    async def _verify_with_current_keys(self, token: str) -> VerifiedToken:
        return await verify_token(
            token,
            policy=self._policy,
            keys=await self._jwks.keys(),
            verifier=self._verifier,
            now=self._clock.now(),
        )

    def _challenge(self, error: str | None) -> str:
        return www_authenticate_header(error, realm=self._realm)

    def _invalid_token(self) -> EdgeResponse:
        challenge = [("www-authenticate", self._challenge("invalid_token"))]
        return json_response(401, invalid_token_body(), challenge)

    def _invalid_request(self) -> EarlyAnswer:
        return refuse(
            401,
            "invalid_request",
            SAFE_DESCRIPTIONS["invalid_request"],
            [("www-authenticate", self._challenge("invalid_request"))],
        )
