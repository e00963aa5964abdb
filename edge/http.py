"""The edge's own HTTP messages: plain data, the same whichever runtime delivered the request."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


class Headers:
    """An ordered header list with lowercased names, as runtimes hand them over."""

    __slots__ = ("_index", "items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self.items: list[tuple[str, str]] = [(name.lower(), value) for name, value in items]
        self._index: dict[str, list[str]] | None = None

    def multimap(self) -> Mapping[str, Sequence[str]]:
        """Every value of every name (built once, on first use)."""
        if self._index is None:
            index: dict[str, list[str]] = {}
            for name, value in self.items:
                index.setdefault(name, []).append(value)
            self._index = index
        return self._index

    def get(self, name: str) -> str | None:
        values = self.multimap().get(name)
        return values[0] if values else None

    def get_all(self, name: str) -> Sequence[str]:
        return self.multimap().get(name, ())

    def __contains__(self, name: object) -> bool:
        return name in self.multimap()

    def __len__(self) -> int:
        return len(self.items)


@dataclass(slots=True)
class EdgeRequest:
    """A client's request. ``target`` is the path and query exactly as received."""

    method: str
    target: str
    headers: Headers
    body: bytes = b""
    client: str | None = None
    """The address the client connected from, when the runtime knows it (never a header the
    client controls); the assertion carries it so the origin can rate limit per client."""


@dataclass(slots=True)
class EdgeResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def set_header(self, name: str, value: str) -> None:
        self.headers = [(key, old) for key, old in self.headers if key != name]
        self.headers.append((name, value))

    def without_headers(self, names: frozenset[str]) -> None:
        self.headers = [(key, value) for key, value in self.headers if key not in names]


def header_multimap(headers: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for name, value in headers:
        index.setdefault(name, []).append(value)
    return index
