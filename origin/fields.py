"""The checks every client string and number passes at the boundary, as types routes reuse.

A value that reaches the database must be one the database can hold, on SQLite and PostgreSQL
alike; anything else is a 422 naming the field, never a database error (a 500). So:

- text refuses control characters (C0, DEL and C1: a NUL is an error on PostgreSQL and ends the
  string early on SQLite, where ``q=%00`` then matched every product) and lone surrogates (no
  UTF-8 spelling: the driver cannot send them). :func:`single_line` for names, addresses,
  search words; :func:`multi_line` where line breaks and tabs belong (descriptions);
- a number written as text (query strings, forms) is ASCII digits only: Python's ``int()`` reads
  ``"١٢"`` and ``"1_000"``, pydantic ``" 12 "`` and ``"12.0"``; none of them is how a client
  should spell a number, and several spellings of one value would split caches;
- a number is bounded by its column: :data:`DbId` holds an INTEGER primary key (1 to 2**31-1;
  PostgreSQL refuses a larger parameter outright), :data:`Int32` any other INTEGER column.

Path ids get the same bound from the ``db_id`` convertor: ``/api/products/{product_id:db_id}``
matches only ids a row can have, so a larger one is the router's 404, not the database's error.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints
from starlette.convertors import IntegerConvertor, register_url_convertor

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
DB_ID_MAX = INT32_MAX  # INTEGER / SERIAL primary keys

# C0 controls, DEL and C1 controls, as a regex character range (Rust and Python syntax alike).
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f"
# Tab, line feed and carriage return are text in a multi-line field; the other controls are not.
MULTI_LINE_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Every pattern a text field is given; a mismatch with one of them is a control character.
TEXT_PATTERNS: set[str] = set()

_ASCII_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def single_line(*, max_length: int, min_length: int = 0, strip: bool = True) -> StringConstraints:
    """Constraints for one line of text: no control characters, no lone surrogates.

    ``strip`` trims surrounding white space first (names, search words); passwords and tokens
    are taken as sent.
    """
    return StringConstraints(
        strip_whitespace=strip,
        min_length=min_length,
        max_length=max_length,
        pattern=text_pattern(CONTROL_CHARACTERS, min_length=min_length, strip=strip),
    )


def multi_line(*, max_length: int, min_length: int = 0) -> StringConstraints:
    """Like :func:`single_line`, but tabs and line breaks are part of the text."""
    return StringConstraints(
        strip_whitespace=True,
        min_length=min_length,
        max_length=max_length,
        pattern=text_pattern(MULTI_LINE_CONTROLS, min_length=min_length, strip=True),
    )


def text_pattern(forbidden: str, *, min_length: int, strip: bool) -> str:
    """The pattern of a text field: none of the ``forbidden`` characters (a regex range) and,
    when the field trims white space and has a minimum length, that many characters left once
    trimmed.

    The second part is for the schema: its ``minLength`` counts the white space the field trims
    away, so without it ``" "`` would be valid by the OpenAPI document and refused by the field
    (a 422 for a request a client generated from the contract). The field checks the pattern on
    the trimmed text, where it adds nothing.
    """
    allowed = rf"[^{forbidden}]"
    if not strip or min_length < 1:
        pattern = rf"^{allowed}*$"
    else:
        solid = rf"[^\s{forbidden}]"  # neither trimmed nor forbidden
        between = "" if min_length == 1 else rf"{allowed}{{{min_length - 2},}}{solid}"
        pattern = rf"^{allowed}*{solid}{between}{allowed}*$"
    TEXT_PATTERNS.add(pattern)
    return pattern


def _ascii_whole_number(value: Any) -> Any:
    """Refuse a number spelt as anything but ASCII digits; any other value is left to the type.

    It never converts: a strict model still refuses ``"12"`` where a JSON number belongs.
    """
    if isinstance(value, str) and _ASCII_WHOLE_NUMBER.fullmatch(value) is None:
        raise ValueError("write a whole number in ASCII digits")
    return value


ASCII_WHOLE_NUMBER = BeforeValidator(_ascii_whole_number)
"""Metadata for an ``int`` that may arrive as text:
``Annotated[int, Field(...), ASCII_WHOLE_NUMBER]``.

The constraints come first: after a validator, pydantic writes them to the JSON Schema as its
own ``ge``/``le`` instead of ``minimum``/``maximum``, and the OpenAPI document would not state
the bounds (tests/origin/observability/test_openapi.py checks it)."""

DbId = Annotated[int, Field(ge=1, le=DB_ID_MAX), ASCII_WHOLE_NUMBER]
"""The id of a row: what an INTEGER primary key can hold."""

Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX), ASCII_WHOLE_NUMBER]
"""Any INTEGER column; narrow it further where the column means something (a price, a count)."""


def _decimal_up_to(limit: int) -> str:
    """A regex matching the decimal spellings of 1 to ``limit``, without leading zeros.

    For 2147483647: up to nine digits freely, or ten digits that stay below the limit at their
    first differing digit, or the limit itself.
    """
    digits = str(limit)
    shorter = f"[1-9][0-9]{{0,{len(digits) - 2}}}" if len(digits) > 1 else None
    same_length = []
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        highest = int(digit) - 1
        if highest >= lowest:
            below = f"[{lowest}-{highest}]" if highest > lowest else str(lowest)
            rest = len(digits) - position - 1
            same_length.append(digits[:position] + below + (f"[0-9]{{{rest}}}" if rest else ""))
    alternatives = [*([shorter] if shorter else []), *same_length, digits]
    return "(?:" + "|".join(alternatives) + ")"


class DbIdConvertor(IntegerConvertor):
    """``{name:db_id}``: a path segment that is a row id (1 to 2**31-1, no leading zeros).

    Anything else does not match the route, so it is a 404 from the router: Starlette's ``int``
    matches any run of digits, and a run longer than the column reached the database.
    """

    regex = _decimal_up_to(DB_ID_MAX)


register_url_convertor("db_id", DbIdConvertor())
