"""Minting the origin's access tokens (signed JWTs) and refresh tokens (opaque, stored hashed)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt

from origin.identity.keys import SigningKey

# RFC 9068: marks an access token, so it cannot pass for an ID token (a type, not a secret).
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105
REFRESH_TOKEN_PREFIX = "rt_"  # noqa: S105  (tells a refresh token from an access token at sight)


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """What the origin writes into the tokens it issues."""

    issuer: str
    audience: str
    access_ttl_seconds: int = 900
    refresh_ttl_seconds: int = 30 * 24 * 3600


def mint_access_token(
    key: SigningKey,
    policy: TokenPolicy,
    *,
    subject: str,
    roles: Iterable[str],
    session_id: str | None,
    now: int,
    ttl_seconds: int | None = None,
) -> str:
    """A signed access token. ``session_id`` (the ``sid`` claim) makes it revocable by logout;
    development tokens have none and simply expire."""
    claims: dict[str, Any] = {
        "iss": policy.issuer,
        "aud": policy.audience,
        "sub": subject,
        "roles": sorted(set(roles)),
        "jti": secrets.token_urlsafe(12),
        "iat": now,
        "nbf": now,
        "exp": now + (policy.access_ttl_seconds if ttl_seconds is None else ttl_seconds),
    }
    if session_id is not None:
        claims["sid"] = session_id
    headers = {"kid": key.kid, "typ": ACCESS_TOKEN_TYPE}
    return jwt.encode(claims, _private_key(key), algorithm=key.alg, headers=headers)


def _private_key(key: SigningKey) -> Any:
    return _load_private_key(key.alg, json.dumps(key.jwk, sort_keys=True))


@lru_cache(maxsize=16)
def _load_private_key(alg: str, jwk_json: str) -> Any:
    """Parsing a private key costs more than signing with it: parse each key once."""
    return jwt.PyJWK(json.loads(jwk_json), alg).key


def new_refresh_token() -> str:
    """An opaque refresh token: 256 random bits, URL-safe."""
    return REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)


def refresh_token_digest(token: str) -> str:
    """What the database stores: a stolen table yields no usable refresh token.

    A plain SHA-256 is enough (no salt, no stretching): the token is 256 random bits, so there is
    nothing to guess, and the digest must be computable for a lookup by value.
    """
    return hashlib.sha256(token.encode()).hexdigest()
