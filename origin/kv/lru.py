"""A bounded mapping with per-entry expiry: least recently used entries go first when it is full."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

V = TypeVar("V")


class LruTtlMap(Generic[V]):
    """Entries expire at an absolute time on the caller's clock; time is passed in, never read.

    ``on_remove(key, value)`` runs for every entry that leaves the map (expired, evicted,
    replaced or popped), so an owner can keep secondary indexes in step.
    """

    def __init__(self, capacity: int, on_remove: Callable[[str, V], None] | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity!r}")
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[V, float]] = OrderedDict()
        self._on_remove = on_remove

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def get(self, key: str, now: float) -> V | None:
        """The live value under ``key``, marked as most recently used; None if absent or expired."""
        found = self._entries.get(key)
        if found is None:
            return None
        value, expires_at = found
        if expires_at <= now:
            self.pop(key)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: V, expires_at: float) -> None:
        self.pop(key)
        self._entries[key] = (value, expires_at)
        while len(self._entries) > self.capacity:
            oldest, (evicted, _) = self._entries.popitem(last=False)
            self._removed(oldest, evicted)

    def pop(self, key: str) -> V | None:
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self._removed(key, found[0])
        return found[0]

    def clear(self) -> None:
        for key in list(self._entries):
            self.pop(key)

    def _removed(self, key: str, value: V) -> None:
        if self._on_remove is not None:
            self._on_remove(key, value)
