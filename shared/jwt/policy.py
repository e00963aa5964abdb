"""What a verifier accepts: fixed by configuration, never by the token being verified."""

from __future__ import annotations

from dataclasses import dataclass

from shared.jwt.compact import DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_TOKEN_BYTES

# The algorithms a signature verifier port must implement.
SUPPORTED_ALGORITHMS = frozenset({"ES256", "ES384", "RS256", "PS256", "EdDSA", "HS256"})
SYMMETRIC_ALGORITHMS = frozenset({"HS256"})
# Compared lowercased and without an "application/" prefix (RFC 7515 §4.1.9).
DEFAULT_TOKEN_TYPES = frozenset({"jwt", "at+jwt"})


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    """The issuer, audience and algorithms one verifier accepts, and how much clock skew.

    ``leeway_seconds`` widens ``exp``, ``nbf`` and ``iat`` by that much, for clocks that differ.
    """

    issuer: str
    audience: str
    algorithms: frozenset[str]
    leeway_seconds: float = 30.0
    token_types: frozenset[str] = DEFAULT_TOKEN_TYPES
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES

    def __post_init__(self) -> None:
        # Normalise so callers may pass any iterable of names (a list from configuration).
        object.__setattr__(self, "algorithms", frozenset(self.algorithms))
        object.__setattr__(self, "token_types", frozenset(t.lower() for t in self.token_types))
        if not self.issuer or not self.audience:
            raise ValueError("a verification policy needs an issuer and an audience")
        if not self.algorithms:
            raise ValueError("a verification policy needs at least one algorithm")
        unsupported = self.algorithms - SUPPORTED_ALGORITHMS
        if unsupported:
            # Also refuses "none" in any spelling: it is not a signature algorithm.
            raise ValueError(f"unsupported algorithms: {', '.join(sorted(unsupported))}")
        if not 0 <= self.leeway_seconds <= 300:
            raise ValueError("leeway_seconds must be between 0 and 300")
        if self.max_token_bytes < 64 or self.max_header_bytes < 16:
            raise ValueError("size limits are too small for any token")
