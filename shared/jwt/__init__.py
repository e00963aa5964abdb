"""JSON Web Token verification, standard library only: strict parsing, policy, keys, claims.

Signature checks go through the :class:`SignatureVerifier` port, implemented by the origin
(PyJWT/cryptography) and the edge (Web Crypto). See :mod:`shared.jwt.verify` for the check order.
"""

from shared.jwt.challenge import SAFE_DESCRIPTIONS, invalid_token_body, www_authenticate_header
from shared.jwt.claims import (
    ValidatedClaims,
    check_claims,
    numeric_date,
    principal_from_claims,
    roles_from_claims,
    subject_from_claims,
)
from shared.jwt.compact import (
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_TOKEN_BYTES,
    ParsedToken,
    decode_unverified,
)
from shared.jwt.errors import TokenErrorReason, TokenInvalid, UnusableKey
from shared.jwt.header import check_header
from shared.jwt.keys import Jwk, JwksInvalid, KeyRejected, KeySet, SkippedKey, parse_jwk, parse_jwks
from shared.jwt.policy import SUPPORTED_ALGORITHMS, SYMMETRIC_ALGORITHMS, VerificationPolicy
from shared.jwt.verify import SignatureVerifier, VerifiedToken, verify_parsed, verify_token

__all__ = [
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_MAX_TOKEN_BYTES",
    "SAFE_DESCRIPTIONS",
    "SUPPORTED_ALGORITHMS",
    "SYMMETRIC_ALGORITHMS",
    "Jwk",
    "JwksInvalid",
    "KeyRejected",
    "KeySet",
    "ParsedToken",
    "SignatureVerifier",
    "SkippedKey",
    "TokenErrorReason",
    "TokenInvalid",
    "UnusableKey",
    "ValidatedClaims",
    "VerificationPolicy",
    "VerifiedToken",
    "check_claims",
    "check_header",
    "decode_unverified",
    "invalid_token_body",
    "numeric_date",
    "parse_jwk",
    "parse_jwks",
    "principal_from_claims",
    "roles_from_claims",
    "subject_from_claims",
    "verify_parsed",
    "verify_token",
    "www_authenticate_header",
]
