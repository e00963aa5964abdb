"""JSON as JOSE needs it: UTF-8 objects only, no duplicate members, no non-finite or absurd numbers.

Duplicate members matter because parsers disagree on which one wins: a token whose ``alg`` or
``sub`` reads differently to two components is an attack, so it is refused outright.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from shared.jwt.errors import TokenErrorReason, TokenInvalid

MAX_DEPTH = 16
# JSON numbers longer than this are never legitimate claims; refusing them early also keeps
# big-integer conversion cost off the table.
MAX_NUMBER_LENGTH = 64

_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_OPENING = frozenset("[{")
_CLOSING = frozenset("]}")


class _DuplicateMember(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateMember
    return result


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_LENGTH:
        raise ValueError("number too long")
    return int(text)


def _finite_float(text: str) -> float:
    if len(text) > MAX_NUMBER_LENGTH:
        raise ValueError("number too long")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Immutable once built; module-level so each decode does not rebuild the scanner.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object,
    parse_int=_bounded_int,
    parse_float=_finite_float,
    parse_constant=_no_constant,
)


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether arrays/objects nest deeper than ``limit`` (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to nest that deep, no scan needed
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        found = match.group()
        if found in _OPENING:
            depth += 1
            if depth > limit:
                return True
        elif found in _CLOSING:
            depth -= 1
    return False


def load_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object from UTF-8 bytes, raising :class:`TokenInvalid` for anything else."""
    try:
        # Decoding ourselves: json.loads(bytes) would also accept UTF-16 and UTF-32.
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenInvalid(TokenErrorReason.BAD_JSON, f"{what} is not UTF-8") from None
    if nesting_exceeds(text, MAX_DEPTH):
        raise TokenInvalid(TokenErrorReason.BAD_JSON, f"{what} nests too deeply")
    try:
        value = _DECODER.decode(text)
    except _DuplicateMember:
        raise TokenInvalid(TokenErrorReason.DUPLICATE_KEY, f"{what} repeats a member") from None
    except (ValueError, RecursionError):
        raise TokenInvalid(TokenErrorReason.BAD_JSON, f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise TokenInvalid(TokenErrorReason.BAD_JSON, f"{what} is not a JSON object")
    return value
