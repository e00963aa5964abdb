"""What one Locust process fetches once and all its simulated users share (a sign-in, a catalog).

Locust runs users as gevent greenlets: the first user to ask fetches, the others wait for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_values: dict[str, Any] = {}


def once(name: str, fetch: Callable[[], T]) -> T:
    """``fetch()``'s value, fetched by the first caller in this process under ``name``."""
    with _lock():
        if name not in _values:
            _values[name] = fetch()
    value: T = _values[name]
    return value


def _lock() -> Any:
    if "lock" not in _values:
        from gevent.lock import Semaphore  # type: ignore[import-untyped]

        _values["lock"] = Semaphore()
    return _values["lock"]
