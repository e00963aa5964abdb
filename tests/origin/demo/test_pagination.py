"""Cursors round-trip the position they encode and refuse anything else."""

from __future__ import annotations

import base64
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origin.demo.errors import InvalidCursor
from origin.demo.pagination import decode_cursor, encode_cursor
from origin.fields import DB_ID_MAX


@given(st.integers(min_value=0, max_value=DB_ID_MAX))
def test_a_cursor_decodes_to_the_id_it_was_made_from(last_id: int) -> None:
    assert decode_cursor(encode_cursor(last_id)) == last_id


def test_cursors_are_opaque_url_safe_text() -> None:
    cursor = encode_cursor(42)

    assert "42" not in cursor
    assert set(cursor) <= set(string.ascii_letters + string.digits + "-_")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "42",
        "!!!",
        "a" * 65,
        _b64("42"),  # right encoding, missing tag
        _b64("k1:"),
        _b64("k1:-5"),
        _b64("k1:4.5"),
        _b64("k1:١٢"),  # non-ASCII digits
        _b64(f"k1:{2**63}"),
        _b64(f"k1:{DB_ID_MAX + 1}"),  # past the id column: PostgreSQL refuses the parameter
    ],
)
def test_cursors_this_server_did_not_issue_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


@given(st.text(max_size=80))
def test_decoding_any_text_either_succeeds_or_raises_invalid_cursor(cursor: str) -> None:
    try:
        value = decode_cursor(cursor)
    except InvalidCursor:
        return
    assert 0 <= value <= DB_ID_MAX
