"""A throwaway token issuer for tests: fresh keys per run, tokens minted with PyJWT.

Tokens come from PyJWT, an independent implementation, so the tests check ``shared.jwt``
against someone else's idea of a valid token rather than against itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from shared.b64 import b64url_encode
from shared.jwt import KeySet, VerificationPolicy, parse_jwks

ISSUER = "https://issuer.test"
AUDIENCE = "test-api"
NOW = 1_760_000_000.0
ALL_ALGORITHMS = ("ES256", "ES384", "RS256", "PS256", "EdDSA", "HS256")


@dataclass(frozen=True)
class IssuerKey:
    kid: str
    alg: str
    private: Any = field(repr=False)
    public_jwk: dict[str, Any] = field(repr=False)


def generate_key(alg: str, kid: str | None = None) -> IssuerKey:
    kid = kid or f"test-{alg.lower()}"
    if alg in ("ES256", "ES384"):
        curve = ec.SECP256R1() if alg == "ES256" else ec.SECP384R1()
        private: Any = ec.generate_private_key(curve)
        public = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif alg in ("RS256", "PS256"):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        public = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif alg == "HS256":
        private = b"test-only-hmac-secret-" + kid.encode().ljust(16, b"x")
        public = {"kty": "oct", "k": b64url_encode(private)}
    else:
        raise ValueError(alg)
    return IssuerKey(kid, alg, private, {**public, "kid": kid, "alg": alg, "use": "sig"})


def claims(now: float = NOW, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "roles": ["customer"],
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + 900,
        "jti": "token-1",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def mint(key: IssuerKey, payload: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(payload, key.private, algorithm=key.alg, headers={"kid": key.kid, **headers})


def key_set(*keys: IssuerKey) -> KeySet:
    return parse_jwks({"keys": [key.public_jwk for key in keys]}, allow_symmetric=True)


def policy(**changes: Any) -> VerificationPolicy:
    settings: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "algorithms": frozenset(ALL_ALGORITHMS),
        "leeway_seconds": 30,
    }
    settings.update(changes)
    return VerificationPolicy(**settings)
