"""How load-test requests are named and judged: pure decisions, shared by Locust and the report.

A request's name carries its scenario, what it asked for and how the edge answered it, e.g.
``catalog: product [HIT]``, so Locust's own tables (and the bench's) keep cache hits, misses and
forwarded requests apart. A server without an edge in front sends no ``X-Cache``: its requests
are named ``[DIRECT]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIRECT = "DIRECT"
"""The cache outcome of a response that no edge answered (no ``X-Cache`` header)."""

SERVED_BY_EDGE_CACHE = frozenset({"HIT", "STALE"})
"""Outcomes answered from the edge's cache without waiting for the origin."""

_NAME = re.compile(r"(?P<scenario>[^:]+): (?P<request>.+) \[(?P<cache>[A-Z-]+)\]")


@dataclass(frozen=True, slots=True)
class RequestName:
    scenario: str
    request: str
    cache: str

    def __str__(self) -> str:
        return f"{self.scenario}: {self.request} [{self.cache}]"


def cache_outcome(x_cache: str | None) -> str:
    """The ``[...]`` part of a name: the edge's ``X-Cache`` verdict, or ``DIRECT`` without one."""
    if x_cache is None or not x_cache.strip():
        return DIRECT
    return x_cache.strip().upper()


def request_name(scenario: str, request: str, x_cache: str | None) -> str:
    return str(RequestName(scenario, request, cache_outcome(x_cache)))


def parse_request_name(name: str) -> RequestName | None:
    """The parts of a name built by :func:`request_name`; ``None`` for any other name."""
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    return RequestName(match["scenario"], match["request"], match["cache"])


def unexpected_status(status: int, expected: frozenset[int]) -> str | None:
    """Why a response with ``status`` is a failure, or ``None`` when it is what was expected."""
    if status in expected:
        return None
    wanted = " or ".join(str(code) for code in sorted(expected))
    return f"expected HTTP {wanted}, got {status}"


def geofence_refusal_failure(status: int, x_cache: str | None) -> str | None:
    """Judge a request from a blocked country.

    Geofencing is the edge's job: through an edge the request must be refused with 451; straight
    to the origin (no ``X-Cache``: no edge in the path) it is served, and that is what the
    comparison measures, so a 2xx is the expected answer there.
    """
    if cache_outcome(x_cache) == DIRECT:
        return None if 200 <= status < 300 else f"expected a 2xx from the origin, got {status}"
    return unexpected_status(status, frozenset({451}))
