"""Text fields say in their schema what they accept: a value the OpenAPI document allows is one
the field takes, including where the field trims white space before counting characters."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from pydantic import TypeAdapter, ValidationError

from origin.fields import CONTROL_CHARACTERS, multi_line, single_line, text_pattern

NAME = Annotated[str, single_line(min_length=1, max_length=20)]
CODE = Annotated[str, single_line(min_length=3, max_length=20)]
NOTE = Annotated[str, multi_line(min_length=1, max_length=50)]
PASSWORD = Annotated[str, single_line(min_length=1, max_length=20, strip=False)]


def documented(field: Any) -> tuple[str, int]:
    schema = TypeAdapter(field).json_schema()
    return schema["pattern"], schema["minLength"]


def allowed_by_schema(field: Any, value: str) -> bool:
    pattern, min_length = documented(field)
    return len(value) >= min_length and re.search(pattern, value) is not None


def accepted(field: Any, value: str) -> bool:
    try:
        TypeAdapter(field).validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (NAME, " "),
        (NAME, "\u00a0\u2003"),  # white space beyond ASCII is trimmed too
        (NAME, "a"),
        (NAME, "  a  "),
        (NAME, "a\x00"),
        (CODE, "ab "),
        (CODE, " abc "),
        (CODE, "a b"),
        (NOTE, "\n\t "),
        (NOTE, "line\nline"),
        (PASSWORD, " "),
        (PASSWORD, "\x7f"),
    ],
)
def test_the_schema_allows_exactly_what_the_field_accepts(field: Any, value: str) -> None:
    assert allowed_by_schema(field, value) == accepted(field, value)


def test_a_field_that_keeps_white_space_documents_only_the_forbidden_characters() -> None:
    assert text_pattern(CONTROL_CHARACTERS, min_length=1, strip=False) == (
        rf"^[^{CONTROL_CHARACTERS}]*$"
    )
