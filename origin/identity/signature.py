"""The signature-verification port on CPython: PyJWT's algorithm objects over ``cryptography``.

Converting a JWK into a key object costs more than most verifications, so converted keys are
kept per JWK (keys are value objects: an unchanged key re-read from a refreshed JWKS hits the
same entry).
"""

from __future__ import annotations

from typing import Any

from jwt.algorithms import Algorithm, get_default_algorithms
from jwt.exceptions import InvalidKeyError

from shared.jwt import SUPPORTED_ALGORITHMS, Jwk, UnusableKey


class PyJwtSignatureVerifier:
    """Implements :class:`shared.jwt.SignatureVerifier` for every supported algorithm."""

    def __init__(self, *, max_cached_keys: int = 256) -> None:
        available = get_default_algorithms()
        self._algorithms: dict[str, Algorithm] = {
            name: available[name] for name in SUPPORTED_ALGORITHMS
        }
        self._max_cached_keys = max_cached_keys
        self._keys: dict[tuple[str, Jwk], Any] = {}

    @property
    def cached_key_count(self) -> int:
        return len(self._keys)

    async def verify(self, alg: str, key: Jwk, signing_input: bytes, signature: bytes) -> bool:
        algorithm = self._algorithms.get(alg)
        if algorithm is None:
            raise UnusableKey(f"algorithm {alg} is not implemented here")
        prepared = self._prepared_key(alg, algorithm, key)
        return algorithm.verify(signing_input, prepared, signature)

    def _prepared_key(self, alg: str, algorithm: Algorithm, key: Jwk) -> Any:
        cache_key = (alg, key)
        prepared = self._keys.get(cache_key)
        if prepared is None:
            try:
                prepared = algorithm.from_jwk(key.to_dict())
            except (InvalidKeyError, ValueError, TypeError) as error:
                raise UnusableKey(f"key {key.kid} cannot be loaded: {error}") from error
            if len(self._keys) >= self._max_cached_keys:
                # Key sets are small and change rarely: dropping the oldest entry is enough.
                del self._keys[next(iter(self._keys))]
            self._keys[cache_key] = prepared
        return prepared
