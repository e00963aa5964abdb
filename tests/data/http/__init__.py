"""Hostile HTTP/1.1 on the wire: data shared by the suites that talk to an HTTP/1.1 peer.

- ``requests.json``: requests a client may send the edge, each with the refusal (status, JSON
  error code) or the 200 expected, and floods: a head followed by a unit repeated without end;
- ``origin_answers.json``: answers an origin may send the edge: ``refused`` ones (header
  injection and broken framing) and ``desync`` ones (a forged answer after a whole one).

Bytes are written as text items (sent as UTF-8, ``$PATH`` replaced by the test's own path) or
``{"repeat": text, "times": n}`` items, so a 140 KB head stays a line of JSON. This loader uses
the standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PATH_PLACEHOLDER = "$PATH"


@dataclass(frozen=True, slots=True)
class HostileRequest:
    name: str
    why: str
    items: tuple[Any, ...]
    status: int
    code: str | None  # None for the requests that must be served (200)

    def bytes_for(self, path: str) -> bytes:
        return assemble(self.items, path)


@dataclass(frozen=True, slots=True)
class Flood:
    name: str
    why: str
    head: str
    unit: str
    status: int
    code: str

    def head_for(self, path: str) -> bytes:
        return self.head.replace(PATH_PLACEHOLDER, path).encode("utf-8")


@dataclass(frozen=True, slots=True)
class OriginAnswer:
    name: str
    why: str
    kind: str  # "header-injection", "framing" or "desync"
    raw: bytes


def assemble(items: Sequence[Any], path: str = "") -> bytes:
    parts = []
    for item in items:
        text = item["repeat"] * item["times"] if isinstance(item, dict) else item
        parts.append(text.replace(PATH_PLACEHOLDER, path).encode("utf-8"))
    return b"".join(parts)


def hostile_requests() -> list[HostileRequest]:
    document = _load("requests.json")
    return [
        HostileRequest(
            name=case["name"],
            why=case["why"],
            items=tuple(case["bytes"]),
            status=case["status"],
            code=case.get("code"),
        )
        for case in document["requests"]
    ]


def floods() -> list[Flood]:
    return [Flood(**case) for case in _load("requests.json")["floods"]]


def origin_answers(group: str) -> list[OriginAnswer]:
    """``group`` is ``refused`` or ``desync``."""
    return [
        OriginAnswer(case["name"], case["why"], case["kind"], assemble(case["bytes"]))
        for case in _load("origin_answers.json")[group]
    ]


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((HERE / name).read_text(encoding="utf-8"))
    return document
