"""Verifying a bearer token: the origin's own, or one from a configured external issuer.

The token's ``iss`` is read before anything is trusted, but only to choose which issuer's policy
and keys to verify it with (routing, not a decision): a token that lies about its issuer meets
keys that did not sign it. Everything else is :func:`shared.jwt.verify_parsed`. A token verified
recently is remembered (:mod:`origin.identity.verified_tokens`) and skips the checks until its
``exp`` or until its issuer's keys change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from origin.identity.external import ExternalIssuer, RemoteKeySet
from origin.identity.keyring_file import KeyringSource
from origin.identity.verified_tokens import VerifiedTokens, token_digest
from shared.jwt import (
    KeySet,
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
        verified: VerifiedTokens | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._leeway = leeway_seconds
        self._keyring = keyring
        self._signatures = signatures
        self._external = {trusted.issuer.issuer: trusted for trusted in external}
        self._own_policy: VerificationPolicy | None = None
        self.verified = verified if verified is not None else VerifiedTokens()

    async def verify(self, token: str, *, now: float) -> VerifiedToken:
        """The verified token, or :class:`TokenInvalid` naming the check that failed.

        Raises :class:`~origin.identity.external.JwksUnavailable` when an external issuer's keys
        cannot be had: that is not the token's fault.
        """
        digest = token_digest(token)
        remembered = await self.verified.recall(digest, now, self._current_keys)
        if remembered is not None:
            return remembered
        parsed = decode_unverified(token)
        kid = parsed.header.get("kid")
        keys, policy = await self._keys_and_policy(
            parsed.claims.get("iss"), kid if isinstance(kid, str) else "", now
        )
        verified = await verify_parsed(
            parsed, policy=policy, keys=keys, verifier=self._signatures, now=now
        )
        self.verified.remember(digest, verified, keys, now)
        return verified

    async def _current_keys(self, verified: VerifiedToken, now: float) -> KeySet:
        keys, _ = await self._keys_and_policy(verified.issuer, verified.key_id, now)
        return keys

    async def _keys_and_policy(
        self, issuer: object, kid: str, now: float
    ) -> tuple[KeySet, VerificationPolicy]:
        """The keys and policy a token claiming ``issuer`` and naming ``kid`` is verified with."""
        if issuer == self.issuer:
            own = self._keyring.verification_keys(now)
            return own.keys, self._policy_for(own.algorithms)
        trusted = self._external.get(issuer) if isinstance(issuer, str) else None
        if trusted is None:
            raise TokenInvalid(TokenErrorReason.WRONG_ISSUER, "iss names no trusted issuer")
        return await trusted.keys.keys_for(kid), trusted.policy

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
