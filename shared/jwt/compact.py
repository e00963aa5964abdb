"""Strict parsing of a compact JWS (``header.payload.signature``), with no policy and no trust.

The result is what the token *claims*; nothing in it is trusted until :mod:`shared.jwt.verify` has
checked the header against the policy, the key and the signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shared.b64 import decode_checked_alphabet
from shared.jwt.errors import TokenErrorReason, TokenInvalid
from shared.jwt.strict_json import load_object

DEFAULT_MAX_TOKEN_BYTES = 8192
DEFAULT_MAX_HEADER_BYTES = 1024

# Header and payload are never empty; an empty signature parses (and fails verification later).
_COMPACT_JWS = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)")
_JWE_PARTS = 5


@dataclass(frozen=True, slots=True)
class ParsedToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def decode_unverified(
    token: str,
    *,
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> ParsedToken:
    """Split and decode a token without verifying it; raise :class:`TokenInvalid` if malformed.

    Sizes are those of the encoded text (what travels in the ``Authorization`` header). Use the
    result for routing only (e.g. choosing the issuer's key set), never for decisions.
    """
    if not isinstance(token, str) or not token:
        raise TokenInvalid(TokenErrorReason.MALFORMED, "no token text")
    if len(token) > max_token_bytes:
        raise TokenInvalid(TokenErrorReason.TOO_LARGE, "token exceeds the size limit")
    match = _COMPACT_JWS.fullmatch(token)
    if match is None:
        raise _why_not_compact(token, max_header_bytes)
    header_b64, payload_b64, signature_b64 = match.groups()
    if len(header_b64) > max_header_bytes:
        raise TokenInvalid(TokenErrorReason.HEADER_TOO_LARGE, "header exceeds the size limit")
    header = load_object(_decode_segment(header_b64, "header"), "header")
    claims = load_object(_decode_segment(payload_b64, "payload"), "payload")
    signature = _decode_segment(signature_b64, "signature")
    signing_input = token[: match.end(2)].encode("ascii")
    return ParsedToken(header, claims, signing_input, signature)


def _decode_segment(segment: str, what: str) -> bytes:
    try:
        return decode_checked_alphabet(segment)
    except ValueError:  # Base64UrlError and binascii.Error alike
        raise TokenInvalid(TokenErrorReason.BAD_ENCODING, f"{what} is not base64url") from None


def _why_not_compact(token: str, max_header_bytes: int) -> TokenInvalid:
    """Name the reason a token failed the compact-JWS pattern (slow path: failures only)."""
    parts = token.split(".")
    if len(parts) == _JWE_PARTS:
        return TokenInvalid(TokenErrorReason.ENCRYPTED, "encrypted tokens (JWE) are not accepted")
    if len(parts) != 3:
        return TokenInvalid(TokenErrorReason.MALFORMED, "a token has exactly three parts")
    if len(parts[0]) > max_header_bytes:
        return TokenInvalid(TokenErrorReason.HEADER_TOO_LARGE, "header exceeds the size limit")
    if not parts[0] or not parts[1]:
        return TokenInvalid(TokenErrorReason.MALFORMED, "header or payload is empty")
    return TokenInvalid(TokenErrorReason.BAD_ENCODING, "a part is not base64url")
