"""Hostile client input as data: strings, numbers and nested JSON no route may accept.

The JSON files hold the cases so that several suites (the origin's routes, the edge in front
of the origin) run the same ones; this loader uses only the standard library. Every case is a
value a client can really send; a test decides where it goes (a body field, a query parameter,
a form field, a path segment) and expects a 4xx JSON error, never a 500.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass(frozen=True, slots=True)
class HostileString:
    name: str
    value: str
    transports: frozenset[str]
    """How a client can deliver the value as itself: ``json``, ``query``, ``form``."""


@dataclass(frozen=True, slots=True)
class HostileNumber:
    name: str
    json: str | None
    """The literal to write into a JSON body (``None``: not a JSON case)."""
    text: str | None
    """The spelling in a query string, a form or a path (``None``: not a text case)."""


@dataclass(frozen=True, slots=True)
class NestedDocument:
    name: str
    text: str


def hostile_strings() -> list[HostileString]:
    return [
        HostileString(case["name"], _expand(case["value"]), frozenset(case["transports"]))
        for case in _load("strings.json")["strings"]
    ]


def hostile_numbers() -> list[HostileNumber]:
    return [
        HostileNumber(case["name"], _expand(case["json"]), _expand(case["text"]))
        for case in _load("numbers.json")["numbers"]
    ]


def nested_documents() -> list[NestedDocument]:
    return [
        NestedDocument(case["name"], case["open"] * case["depth"] + case["close"] * case["depth"])
        for case in _load("nesting.json")["documents"]
    ]


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((HERE / name).read_text(encoding="utf-8"))
    return document


def _expand(value: Any) -> Any:
    """``{"repeat": s, "times": n}`` is ``s * n``: long values without a long file."""
    if isinstance(value, dict):
        return value["repeat"] * value["times"]
    return value
