"""``Server-Timing`` entries that request handling code adds, e.g. how long the database took.

The request-context middleware writes them, after its own ``app;dur=...`` total, into the
``Server-Timing`` response header. Entries added after the response headers have gone out (while
a body streams) cannot be reported and are dropped.

    with timed(request.scope, "db"):
        rows = await session.execute(query)
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

SERVER_TIMING_KEY = "server_timing"  # in scope["state"]
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token: the metric name


class ServerTiming:
    """The entries of one request, in the order they were added."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: list[str] = []

    def add(self, name: str, duration_ms: float, description: str | None = None) -> None:
        _check_name(name)
        entry = f"{name};dur={duration_ms:.2f}"
        if description is not None:
            escaped = description.replace("\\", "\\\\").replace('"', '\\"')
            entry += f';desc="{escaped}"'
        self._entries.append(entry)

    def header_value(self, total_ms: float) -> str:
        return ", ".join([f"app;dur={total_ms:.2f}", *self._entries])


def _check_name(name: str) -> None:
    if _TOKEN.fullmatch(name) is None:
        raise ValueError(f"Server-Timing name must be an HTTP token, got {name!r}")


def server_timing(scope: MutableMapping[str, Any]) -> ServerTiming:
    """This request's timings (kept in ``scope["state"]``, which every layer shares)."""
    state = scope.setdefault("state", {})
    timing = state.get(SERVER_TIMING_KEY)
    if timing is None:
        timing = state[SERVER_TIMING_KEY] = ServerTiming()
    assert isinstance(timing, ServerTiming)
    return timing


def timing_of(scope: MutableMapping[str, Any]) -> ServerTiming | None:
    """The timings recorded so far, without creating any (for the middleware's hot path)."""
    state = scope.get("state")
    return state.get(SERVER_TIMING_KEY) if state is not None else None


@contextmanager
def timed(
    scope: MutableMapping[str, Any], name: str, description: str | None = None
) -> Iterator[None]:
    """Add a ``name`` entry measuring the body of the ``with`` block (also when it raises)."""
    _check_name(name)
    timing = server_timing(scope)
    started = time.perf_counter()
    try:
        yield
    finally:
        timing.add(name, (time.perf_counter() - started) * 1000.0, description)
