"""The signature-verification port on Cloudflare: Web Crypto (``crypto.subtle``), because the
``cryptography`` package does not import in Python Workers.

Implements :class:`shared.jwt.SignatureVerifier`. JWS signatures are already in the shape Web
Crypto verifies: ECDSA as raw ``r || s`` (not DER), RSA and Ed25519 as bytes. Importing a key
costs more than a verification, so imported ``CryptoKey`` objects are kept per JWK for the life
of the isolate (equal JWKs compare equal, so a refetched JWKS reuses them).
"""

from __future__ import annotations

from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import JsException, to_js  # type: ignore[import-not-found]

from shared.jwt import Jwk, UnusableKey

# JWS algorithm -> (importKey algorithm, verify algorithm), per RFC 7518 and Web Crypto.
WEB_CRYPTO_ALGORITHMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "ES256": (
        {"name": "ECDSA", "namedCurve": "P-256"},
        {"name": "ECDSA", "hash": "SHA-256"},
    ),
    "ES384": (
        {"name": "ECDSA", "namedCurve": "P-384"},
        {"name": "ECDSA", "hash": "SHA-384"},
    ),
    "RS256": (
        {"name": "RSASSA-PKCS1-v1_5", "hash": "SHA-256"},
        {"name": "RSASSA-PKCS1-v1_5"},
    ),
    # RFC 7518 §3.5: the salt is as long as the hash.
    "PS256": ({"name": "RSA-PSS", "hash": "SHA-256"}, {"name": "RSA-PSS", "saltLength": 32}),
    "EdDSA": ({"name": "Ed25519"}, {"name": "Ed25519"}),
    "HS256": ({"name": "HMAC", "hash": "SHA-256"}, {"name": "HMAC"}),
}


def js_object(value: dict[str, Any]) -> Any:
    """A plain JS object (not a Map), which is what Web Crypto's dictionaries must be."""
    return to_js(value, dict_converter=js.Object.fromEntries)


class WebCryptoSignatureVerifier:
    def __init__(self, *, max_cached_keys: int = 256) -> None:
        self._max_cached_keys = max_cached_keys
        self._keys: dict[tuple[str, Jwk], Any] = {}
        # Converted once: these dictionaries cross into JS on every verification otherwise.
        self._verify_params = {
            alg: js_object(verify) for alg, (_, verify) in WEB_CRYPTO_ALGORITHMS.items()
        }
        self._usages = to_js(["verify"])

    async def verify(self, alg: str, key: Jwk, signing_input: bytes, signature: bytes) -> bool:
        crypto_key = await self._imported(alg, key)
        try:
            valid = await js.crypto.subtle.verify(
                self._verify_params[alg], crypto_key, to_js(signature), to_js(signing_input)
            )
        except JsException:
            return False  # e.g. a signature of a length the algorithm cannot have
        return bool(valid)

    async def _imported(self, alg: str, key: Jwk) -> Any:
        cache_key = (alg, key)
        crypto_key = self._keys.get(cache_key)
        if crypto_key is not None:
            return crypto_key
        if alg not in WEB_CRYPTO_ALGORITHMS:
            raise UnusableKey(f"algorithm {alg} is not implemented here")
        import_params, _ = WEB_CRYPTO_ALGORITHMS[alg]
        try:
            crypto_key = await js.crypto.subtle.importKey(
                "jwk", js_object(key.to_dict()), js_object(import_params), False, self._usages
            )
        except JsException as error:
            raise UnusableKey(f"key {key.kid} cannot be imported: {error}") from error
        if len(self._keys) >= self._max_cached_keys:
            del self._keys[next(iter(self._keys))]  # small sets: oldest out is enough
        self._keys[cache_key] = crypto_key
        return crypto_key
