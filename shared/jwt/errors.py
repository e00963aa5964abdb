"""The one failure type of token verification, and the reasons it names (for logs, not clients)."""

from __future__ import annotations

from enum import StrEnum


class TokenErrorReason(StrEnum):
    """Which check refused a token. Clients always get the same 401; logs get the reason."""

    # Shape and encoding, checked before anything is trusted
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    HEADER_TOO_LARGE = "header_too_large"
    ENCRYPTED = "encrypted"
    BAD_ENCODING = "bad_encoding"
    BAD_JSON = "bad_json"
    DUPLICATE_KEY = "duplicate_key"
    # Header against the policy
    INVALID_HEADER = "invalid_header"
    ALG_NOT_ALLOWED = "alg_not_allowed"
    CRIT_UNSUPPORTED = "crit_unsupported"
    TYP_UNSUPPORTED = "typ_unsupported"
    KID_MISSING = "kid_missing"
    # Key and signature
    UNKNOWN_KEY = "unknown_key"
    KEY_ALG_MISMATCH = "key_alg_mismatch"
    KEY_UNUSABLE = "key_unusable"
    BAD_SIGNATURE = "bad_signature"
    # Claims, only looked at once the signature holds
    MISSING_EXPIRY = "missing_expiry"
    INVALID_CLAIM = "invalid_claim"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    ISSUED_IN_FUTURE = "issued_in_future"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    MISSING_SUBJECT = "missing_subject"


class TokenInvalid(Exception):
    """A token was refused. ``detail`` is a fixed text for logs; it never echoes token content."""

    def __init__(self, reason: TokenErrorReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


class UnusableKey(Exception):
    """Raised by a signature verifier that cannot use a key (bad material, unsupported curve).

    It is a configuration problem, not the client's: the core reports it as ``key_unusable``.
    """
