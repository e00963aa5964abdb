"""Keyset pagination cursors: where the previous page ended, opaque to clients.

Keyset ("after id N") rather than OFFSET: each page costs one index range scan however deep the
client goes, and rows inserted or deleted meanwhile never shift a page. The cursor is opaque
(base64 of a tagged value) so the server may change what it encodes without breaking clients,
and anything not produced here is refused instead of being silently misread: a position past
the id column's range (PostgreSQL refuses such a parameter) is as forged as a missing tag.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from pydantic import StringConstraints

from origin.demo.errors import InvalidCursor
from origin.fields import DB_ID_MAX

_TAG = "k1:"
CURSOR_MAX_LENGTH = 64

Cursor = Annotated[
    str, StringConstraints(max_length=CURSOR_MAX_LENGTH, pattern=r"^[A-Za-z0-9_-]+$")
]
"""A cursor as a query parameter: URL-safe base64 without padding, as :func:`encode_cursor`
writes it (:func:`decode_cursor` still checks what it says)."""


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
    if value > DB_ID_MAX:
        raise InvalidCursor
    return value
