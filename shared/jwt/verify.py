"""Token verification: the order of the checks, with signature verification as a port.

Order, cheapest first, and nothing from the token trusted before its signature holds:

1. size and shape (:func:`decode_unverified`): length, three base64url parts, JSON objects
   without duplicate members;
2. header against the policy: ``alg`` in the configured allow-list, no ``crit``, ``typ``, ``kid``;
3. key selection by ``kid`` and ``alg`` together, and the signature's exact length;
4. the signature, through the :class:`SignatureVerifier` port (the only expensive step);
5. claims: ``exp``, ``nbf``, ``iat`` (with leeway), ``iss``, ``aud``, ``sub``, ``roles``, ``sid``.

Claims are parsed in step 1 but only *read* in step 5; a caller that must pick a policy by
issuer may read ``iss`` from :func:`decode_unverified`'s result for that routing alone, then
hand the same parsed token to :func:`verify_parsed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from shared.jwt.claims import check_claims
from shared.jwt.compact import ParsedToken, decode_unverified
from shared.jwt.errors import TokenErrorReason, TokenInvalid, UnusableKey
from shared.jwt.header import check_header
from shared.jwt.keys import Jwk, KeySet
from shared.jwt.policy import VerificationPolicy
from shared.principal import Principal


class SignatureVerifier(Protocol):
    """Checks one signature; async because Web Crypto (the edge's implementation) is.

    Returns ``False`` for a signature that does not verify; raises :class:`UnusableKey` when the
    key itself cannot be used. ``alg`` is always one of ``key.algorithms``.
    """

    async def verify(self, alg: str, key: Jwk, signing_input: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    subject: str
    roles: frozenset[str]
    issuer: str
    expires_at: float
    algorithm: str
    key_id: str
    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    session_id: str | None = None
    """The ``sid`` claim: the session to check against the revocation list, if any."""

    @property
    def token_id(self) -> str | None:
        jti = self.claims.get("jti")
        return jti if isinstance(jti, str) else None

    def principal(self, country: str | None = None) -> Principal:
        return Principal(subject=self.subject, roles=self.roles, country=country)


async def verify_token(
    token: str,
    *,
    policy: VerificationPolicy,
    keys: KeySet,
    verifier: SignatureVerifier,
    now: float,
) -> VerifiedToken:
    """Verify a compact JWS; raise :class:`TokenInvalid` naming the first check that failed."""
    parsed = decode_unverified(
        token, max_token_bytes=policy.max_token_bytes, max_header_bytes=policy.max_header_bytes
    )
    return await verify_parsed(parsed, policy=policy, keys=keys, verifier=verifier, now=now)


async def verify_parsed(
    parsed: ParsedToken,
    *,
    policy: VerificationPolicy,
    keys: KeySet,
    verifier: SignatureVerifier,
    now: float,
) -> VerifiedToken:
    """Steps 2-5 for a token already split and decoded by :func:`decode_unverified`."""
    alg, kid = check_header(parsed.header, policy)
    key = keys.select(kid, alg)
    await _check_signature(verifier, alg, key, parsed)
    claims = check_claims(parsed.claims, policy, now)
    return VerifiedToken(
        subject=claims.subject,
        roles=claims.roles,
        issuer=claims.issuer,
        expires_at=claims.expires_at,
        algorithm=alg,
        key_id=kid,
        header=parsed.header,
        claims=parsed.claims,
        session_id=claims.session_id,
    )


async def _check_signature(
    verifier: SignatureVerifier, alg: str, key: Jwk, parsed: ParsedToken
) -> None:
    # A wrong length can never verify; refusing it here keeps odd inputs away from the port.
    if len(parsed.signature) != key.signature_bytes:
        raise TokenInvalid(TokenErrorReason.BAD_SIGNATURE, "signature has the wrong length")
    try:
        valid = await verifier.verify(alg, key, parsed.signing_input, parsed.signature)
    except UnusableKey:
        raise TokenInvalid(TokenErrorReason.KEY_UNUSABLE, "the key cannot be used") from None
    if valid is not True:
        raise TokenInvalid(TokenErrorReason.BAD_SIGNATURE, "signature does not verify")
