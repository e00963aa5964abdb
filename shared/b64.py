"""Strict base64url without padding (RFC 7515 §2), the encoding of JOSE segments and assertions.

Strict means one spelling per byte string: only the URL-safe alphabet, no ``=`` padding, no
whitespace, and no stray bits in the last character. Lenient decoders accept several spellings of
the same bytes, which lets one token pass for another (e.g. past a denylist keyed by the token).
"""

from __future__ import annotations

# binascii rather than base64's wrappers, which re-check and convert types on every call.
import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
# The last character of a 2- or 3-character tail carries 4 or 2 bits of padding that must be zero:
# only these characters (alphabet indexes divisible by 16 or by 4) leave them so.
_LAST_OF_TWO = frozenset("AQgw")
_LAST_OF_THREE = frozenset("AEIMQUYcgkosw048")
_TO_STANDARD_ALPHABET = bytes.maketrans(b"-_", b"+/")
_TO_URL_ALPHABET = bytes.maketrans(b"+/", b"-_")
_PADDING = ("", "", "==", "=")


class Base64UrlError(ValueError):
    """The text is not canonical unpadded base64url."""


def b64url_encode(data: bytes) -> str:
    encoded = binascii.b2a_base64(data, newline=False).rstrip(b"=")
    return encoded.translate(_TO_URL_ALPHABET).decode("ascii")


def is_canonical_b64url(text: str) -> bool:
    if _ALPHABET.fullmatch(text) is None:
        return False
    return has_canonical_tail(text)


def has_canonical_tail(text: str) -> bool:
    """Length and last character are canonical; the caller has already checked the alphabet."""
    remainder = len(text) % 4
    if remainder == 0:
        return True
    if remainder == 2:
        return text[-1] in _LAST_OF_TWO
    if remainder == 3:
        return text[-1] in _LAST_OF_THREE
    return False  # one character alone cannot encode a whole byte


def b64url_decode(text: str) -> bytes:
    """Decode canonical unpadded base64url, raising :class:`Base64UrlError` for anything else."""
    if not is_canonical_b64url(text):
        raise Base64UrlError("not canonical unpadded base64url")
    return decode_checked_alphabet(text)


def decode_checked_alphabet(text: str) -> bytes:
    """Decode text already known to use only the base64url alphabet (e.g. by a larger pattern)."""
    if not has_canonical_tail(text):
        raise Base64UrlError("not canonical unpadded base64url")
    padded = (text + _PADDING[len(text) % 4]).encode("ascii")
    return binascii.a2b_base64(padded.translate(_TO_STANDARD_ALPHABET))
