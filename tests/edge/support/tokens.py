"""Tokens for the edge suites, minted with PyJWT (an independent implementation) from the
committed TEST-ONLY keys of the token corpus (tests/data/tokens)."""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import ECAlgorithm

from tests.data.tokens import CORPUS_PATH

KEY_DIR = CORPUS_PATH.parent
ISSUER = "https://outpost.test"
AUDIENCE = "outpost-api"
ES256_KID = "test-es256-2025"
ROTATED_KID = "test-es256-2026"


@cache
def private_key(filename: str = "test-only-es256.pem") -> Any:
    return serialization.load_pem_private_key((KEY_DIR / filename).read_bytes(), password=None)


def public_jwk(filename: str, kid: str) -> dict[str, Any]:
    public = ECAlgorithm.to_jwk(private_key(filename).public_key(), as_dict=True)
    return {**public, "kid": kid, "alg": "ES256", "use": "sig"}


def mint(
    subject: str,
    *roles: str,
    kid: str = ES256_KID,
    key_file: str = "test-only-es256.pem",
    now: float | None = None,
    **claims: Any,
) -> str:
    issued = int(time.time() if now is None else now)
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "roles": list(roles),
        "iat": issued,
        "exp": issued + 600,
        **claims,
    }
    return jwt.encode(payload, private_key(key_file), algorithm="ES256", headers={"kid": kid})


def test_keyring() -> dict[str, Any]:
    """The origin's keyring (``OUTPOST_SIGNING_KEYS``): the corpus's ES256 key signs."""
    private = ECAlgorithm.to_jwk(private_key(), as_dict=True)
    key = {"kid": ES256_KID, "alg": "ES256", "jwk": private, "created_at": 1_700_000_000}
    return {"keys": [{**key, "retire_at": None}]}


def corpus_jwks() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))["jwks"]
    return document
