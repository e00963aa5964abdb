"""A request's id and W3C trace context, chosen at the edge and passed to the origin.

The same rules as the origin's (``origin/middleware/request_id.py``), so both ends agree: the
client's ``X-Request-ID`` when it is safe, else the trace id; the edge is a new span in the
caller's trace, or starts one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

MAX_REQUEST_ID_LENGTH = 128
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:+=/-]{{1,{MAX_REQUEST_ID_LENGTH}}}")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE_ID = "0" * 32
_ZERO_SPAN_ID = "0" * 16


class TraceParent(NamedTuple):
    trace_id: str
    parent_id: str
    flags: str = "00"

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags}"


class RequestIdentity(NamedTuple):
    request_id: str
    trace: TraceParent  # the edge's own span: pass it on as the origin's parent


def parse_traceparent(value: str) -> TraceParent | None:
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == _ZERO_TRACE_ID or parent_id == _ZERO_SPAN_ID:
        return None
    return TraceParent(trace_id, parent_id, flags)


def identify_request(
    request_id: str | None, traceparent: str | None, random_hex: Callable[[int], str]
) -> RequestIdentity:
    incoming = parse_traceparent(traceparent) if traceparent else None
    trace_id, span_id = _new_ids(random_hex)
    if incoming is not None:
        trace = TraceParent(incoming.trace_id, span_id, incoming.flags)
    else:
        trace = TraceParent(trace_id, span_id)
    if request_id is not None and _SAFE_REQUEST_ID.fullmatch(request_id) is not None:
        return RequestIdentity(request_id, trace)
    return RequestIdentity(trace.trace_id, trace)


def _new_ids(random_hex: Callable[[int], str]) -> tuple[str, str]:
    while True:
        drawn = random_hex(24)
        trace_id, span_id = drawn[:32], drawn[32:]
        if trace_id != _ZERO_TRACE_ID and span_id != _ZERO_SPAN_ID:
            return trace_id, span_id
