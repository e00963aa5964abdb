"""Keyset pagination cursors: where the previous page ended, opaque to clients.

Keyset ("after id N") rather than OFFSET: each page costs one index range scan however deep the
client goes, and rows inserted or deleted meanwhile never shift a page. The cursor is opaque
(base64 of a tagged value) so the server may change what it encodes without breaking clients,
and anything not produced here is refused instead of being silently misread.
"""

from __future__ import annotations

import base64
import binascii

from origin.demo.errors import InvalidCursor

_TAG = "k1:"
CURSOR_MAX_LENGTH = 64
_MAX_ID = 2**63 - 1


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_TAG}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a page ended at; :class:`InvalidCursor` for anything this module did not encode."""
    if not cursor or len(cursor) > CURSOR_MAX_LENGTH:
        raise InvalidCursor
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor from None
    digits = raw.removeprefix(_TAG)
    if digits == raw or not digits.isdigit() or not digits.isascii():
        raise InvalidCursor
    value = int(digits)
    if value > _MAX_ID:
        raise InvalidCursor
    return value
