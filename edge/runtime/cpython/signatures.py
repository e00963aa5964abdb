"""The signature-verification port on CPython, directly over ``cryptography``.

Implements :class:`shared.jwt.SignatureVerifier` for every algorithm the JWT core supports.
Converting a JWK into a key object costs more than a verification, so converted keys are kept
per JWK (equal keys compare equal, so a refreshed JWKS reuses them).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from shared.b64 import b64url_decode
from shared.jwt import Jwk, UnusableKey

_CURVES: dict[str, tuple[ec.EllipticCurve, hashes.HashAlgorithm]] = {
    "ES256": (ec.SECP256R1(), hashes.SHA256()),
    "ES384": (ec.SECP384R1(), hashes.SHA384()),
}


class CryptographySignatureVerifier:
    def __init__(self, *, max_cached_keys: int = 256) -> None:
        self._max_cached_keys = max_cached_keys
        self._keys: dict[tuple[str, Jwk], Any] = {}

    async def verify(self, alg: str, key: Jwk, signing_input: bytes, signature: bytes) -> bool:
        prepared = self._prepared(alg, key)
        try:
            _check(alg, prepared, signing_input, signature)
        except InvalidSignature:
            return False
        return True

    def _prepared(self, alg: str, key: Jwk) -> Any:
        cache_key = (alg, key)
        prepared = self._keys.get(cache_key)
        if prepared is None:
            try:
                prepared = _load(alg, key)
            except (ValueError, KeyError, TypeError) as error:
                raise UnusableKey(f"key {key.kid} cannot be loaded: {error}") from error
            if len(self._keys) >= self._max_cached_keys:
                del self._keys[next(iter(self._keys))]  # small sets: oldest out is enough
            self._keys[cache_key] = prepared
        return prepared


def _load(alg: str, key: Jwk) -> Any:
    if alg in _CURVES:
        curve, _ = _CURVES[alg]
        x = int.from_bytes(b64url_decode(key.member("x")), "big")
        y = int.from_bytes(b64url_decode(key.member("y")), "big")
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()  # checks the point
    if alg in ("RS256", "PS256"):
        n = int.from_bytes(b64url_decode(key.member("n")), "big")
        e = int.from_bytes(b64url_decode(key.member("e")), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if alg == "EdDSA":
        return Ed25519PublicKey.from_public_bytes(b64url_decode(key.member("x")))
    if alg == "HS256":
        return b64url_decode(key.member("k"))
    raise UnusableKey(f"algorithm {alg} is not implemented here")


def _check(alg: str, key: Any, signing_input: bytes, signature: bytes) -> None:
    """Raise :class:`InvalidSignature` unless ``signature`` verifies."""
    if alg in _CURVES:
        _, digest = _CURVES[alg]
        half = len(signature) // 2  # JOSE sends r || s; cryptography wants DER
        r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
        key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest))
    elif alg == "RS256":
        key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)  # RFC 7518 §3.5
        key.verify(signature, signing_input, pss, hashes.SHA256())
    elif alg == "EdDSA":
        key.verify(signature, signing_input)
    elif not hmac.compare_digest(hmac.digest(key, signing_input, hashlib.sha256), signature):
        raise InvalidSignature
