"""Verifying a bearer token: the origin's own, or one from a configured external issuer.

The token's ``iss`` is read before anything is trusted, but only to choose which issuer's policy
and keys to verify it with (routing, not a decision): a token that lies about its issuer meets
keys that did not sign it. Everything else is :func:`shared.jwt.verify_parsed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from origin.identity.external import ExternalIssuer, RemoteKeySet
from origin.identity.keyring_file import KeyringSource
from shared.jwt import (
    SignatureVerifier,
    TokenErrorReason,
    TokenInvalid,
    VerificationPolicy,
    VerifiedToken,
    decode_unverified,
    verify_parsed,
)


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An external issuer and the cache of its keys."""

    issuer: ExternalIssuer
    keys: RemoteKeySet
    policy: VerificationPolicy


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: float,
        keyring: KeyringSource,
        signatures: SignatureVerifier,
        external: Sequence[TrustedIssuer] = (),
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._leeway = leeway_seconds
        self._keyring = keyring
        self._signatures = signatures
        self._external = {trusted.issuer.issuer: trusted for trusted in external}
        self._own_policy: VerificationPolicy | None = None

    async def verify(self, token: str, *, now: float) -> VerifiedToken:
        """The verified token, or :class:`TokenInvalid` naming the check that failed.

        Raises :class:`~origin.identity.external.JwksUnavailable` when an external issuer's keys
        cannot be had: that is not the token's fault.
        """
        parsed = decode_unverified(token)
        issuer = parsed.claims.get("iss")
        if issuer == self.issuer:
            own = self._keyring.verification_keys(now)
            policy = self._policy_for(own.algorithms)
            keys = own.keys
        else:
            trusted = self._external.get(issuer) if isinstance(issuer, str) else None
            if trusted is None:
                raise TokenInvalid(TokenErrorReason.WRONG_ISSUER, "iss names no trusted issuer")
            kid = parsed.header.get("kid")
            keys = await trusted.keys.keys_for(kid if isinstance(kid, str) else "")
            policy = trusted.policy
        return await verify_parsed(
            parsed, policy=policy, keys=keys, verifier=self._signatures, now=now
        )

    def _policy_for(self, algorithms: frozenset[str]) -> VerificationPolicy:
        # The allowed algorithms are those of our own keys: configuration, never the token.
        policy = self._own_policy
        if policy is None or policy.algorithms != algorithms:
            policy = VerificationPolicy(
                issuer=self.issuer,
                audience=self.audience,
                algorithms=algorithms,
                leeway_seconds=self._leeway,
            )
            self._own_policy = policy
        return policy
