"""Deciding a request's identity: its request id and its W3C trace context.

The edge and the origin apply the same rules, so both ends agree: the client's ``X-Request-ID``
when it is safe, else the trace id; each hop is a new span in the caller's trace, or starts one.
Pure decisions: the caller passes the header values and a source of random hex, so the rules can
be tested without a server and without luck. (NamedTuples, not dataclasses: this runs on every
request and they are several times cheaper to build.)
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import NamedTuple

MAX_REQUEST_ID_LENGTH = 128
# Ids end up in log lines and response headers: letters, digits and a few separators only, so a
# client cannot forge log structure or split headers.
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:+=/-]{{1,{MAX_REQUEST_ID_LENGTH}}}")
# version-traceid-parentid-flags, lowercase hex; versions above 00 may append "-..." fields.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_ZERO_TRACE_ID = "0" * 32
_ZERO_SPAN_ID = "0" * 16

RandomHex = Callable[[int], str]
"""Returns ``2 * nbytes`` lowercase hex characters (:func:`id_hex` in production)."""


def id_hex(nbytes: int) -> str:
    """``2 * nbytes`` random lowercase hex characters for trace, span and request ids.

    From ``random.getrandbits``, as OpenTelemetry's SDK draws its ids: they must be unique, not
    secret (they travel in headers and logs), and the operating system's generator costs a
    system call per request. (``random`` reseeds in a forked child, so workers do not repeat.)"""
    return f"{random.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def is_valid_request_id(value: str) -> bool:
    return _SAFE_REQUEST_ID.fullmatch(value) is not None


class TraceParent(NamedTuple):
    """A W3C Trace Context ``traceparent``: which trace this is and which span called us."""

    trace_id: str
    parent_id: str
    flags: str = "00"

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags}"


def parse_traceparent(value: str) -> TraceParent | None:
    """The trace context in ``value``, or ``None`` when it is malformed (it is then ignored).

    Follows the W3C rules: lowercase hex only, all-zero ids and version ``ff`` are invalid, and a
    version above ``00`` may carry extra ``-``-separated fields after the four we understand.
    """
    match = _TRACEPARENT.fullmatch(value.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == _ZERO_TRACE_ID or parent_id == _ZERO_SPAN_ID:
        return None
    return TraceParent(trace_id, parent_id, flags)


class RequestIdentity(NamedTuple):
    request_id: str
    trace: TraceParent
    """The trace context for work done on behalf of this request: our own span in the trace."""


def identify_request(
    request_id_header: str | None,
    traceparent_header: str | None,
    random_hex: RandomHex,
) -> RequestIdentity:
    """Choose the request id and this request's span.

    The request id is the client's ``X-Request-ID`` when it is safe, else the incoming trace id
    (so logs correlate with the caller's trace), else a new random id. We always act as a new span:
    the incoming trace id and flags are kept and the parent becomes our span id; without a valid
    incoming trace we start one (flags ``00``: we make no sampling decision for anyone).
    """
    incoming = parse_traceparent(traceparent_header) if traceparent_header else None
    # One draw for both ids: the randomness source is a system call.
    new_trace_id, span_id = _new_ids(random_hex)
    if incoming is not None:
        trace = TraceParent(incoming.trace_id, span_id, incoming.flags)
    else:
        trace = TraceParent(new_trace_id, span_id)
    if request_id_header is not None and is_valid_request_id(request_id_header):
        return RequestIdentity(request_id_header, trace)
    return RequestIdentity(trace.trace_id, trace)


def _new_ids(random_hex: RandomHex) -> tuple[str, str]:
    # An all-zero id is invalid in trace context; astronomically rare, but cheap to rule out.
    while True:
        drawn = random_hex(24)
        trace_id, span_id = drawn[:32], drawn[32:]
        if trace_id != _ZERO_TRACE_ID and span_id != _ZERO_SPAN_ID:
            return trace_id, span_id
