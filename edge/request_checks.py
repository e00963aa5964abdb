"""The first step: refuse requests the edge must not pass on, before any work is done on them.

Sizes are bounded (414 for the URL, 431 for headers, 413 for the body), framing must be
unambiguous (``Transfer-Encoding`` together with ``Content-Length`` is the classic request
smuggling shape: 400), and the path is decoded once, here, exactly as the origin will decode it,
so every later decision (routes, geofence, cache key) sees the path the origin will serve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from edge.answers import EarlyAnswer, refuse
from edge.config import RequestLimits
from edge.http import EdgeRequest
from shared.http_cache import encode_path

ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_ALLOW_HEADER = ", ".join(sorted(ALLOWED_METHODS))
_TARGET = re.compile(r"/[\x21-\x7e]*")  # origin-form, visible ASCII only
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")
_CONTENT_LENGTH = re.compile(r"[0-9]{1,15}")
# After a framing refusal the rest of the connection cannot be trusted to be read correctly
# (that is what smuggling exploits): the connection is closed after the answer.
_CLOSE = [("connection", "close")]
# The query is passed on as sent, except characters RFC 3986 does not allow there, which are
# percent-encoded (as every HTTP client would) so the target signed is the target sent.
_QUERY_SAFE = "/?:@!$&'()*+,;=-._~%"


@dataclass(frozen=True, slots=True)
class Target:
    """``path`` is decoded (what routes and policies match on); ``forward_path`` is its
    canonical encoding, the one sent to the origin; ``query`` is raw, without the ``?``."""

    path: str
    forward_path: str
    query: str

    def forwarded(self, query: str | None = None) -> str:
        chosen = self.query if query is None else query
        return f"{self.forward_path}?{chosen}" if chosen else self.forward_path


def check_request(request: EdgeRequest, limits: RequestLimits) -> Target:
    """Raise :class:`~edge.answers.EarlyAnswer` for a request to refuse; else its target."""
    if request.method not in ALLOWED_METHODS:
        raise refuse(
            405,
            "method_not_allowed",
            "the edge does not pass this method on",
            [("allow", _ALLOW_HEADER)],
        )
    if len(request.target) > limits.max_target_bytes:
        raise refuse(414, "uri_too_long", f"URLs are limited to {limits.max_target_bytes} bytes")
    _check_headers(request, limits)
    _check_framing(request)
    if len(request.body) > limits.max_body_bytes:
        limit = limits.max_body_bytes
        raise refuse(413, "payload_too_large", f"bodies are limited to {limit} bytes", _CLOSE)
    return parse_target(request.target)


def parse_target(target: str) -> Target:
    if _TARGET.fullmatch(target) is None:
        raise refuse(400, "bad_request", "the request target is not a valid path")
    raw_path, _, query = target.partition("?")
    try:
        path = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        raise refuse(400, "bad_request", "the path is not UTF-8") from None
    if _CONTROL.search(path) is not None:
        raise refuse(400, "bad_request", "the path holds control characters or backslashes")
    if any(segment in (".", "..") for segment in path.split("/")):
        # Resolved differently by different servers: a way around path-based rules.
        raise refuse(400, "bad_request", "the path holds dot segments")
    return Target(
        path=path,
        forward_path=encode_path(path),
        query=quote(query, safe=_QUERY_SAFE),
    )


def _check_headers(request: EdgeRequest, limits: RequestLimits) -> None:
    headers = request.headers
    if len(headers) > limits.max_header_count:
        raise refuse(431, "headers_too_large", f"at most {limits.max_header_count} headers")
    size = sum(len(name) + len(value) + 4 for name, value in headers.items)
    if size > limits.max_header_bytes:
        limit = limits.max_header_bytes
        raise refuse(431, "headers_too_large", f"headers are limited to {limit} bytes")


def _check_framing(request: EdgeRequest) -> None:
    transfer_encodings = request.headers.get_all("transfer-encoding")
    lengths = request.headers.get_all("content-length")
    if transfer_encodings and lengths:
        raise _ambiguous("Transfer-Encoding and Content-Length must not both be sent")
    if transfer_encodings and [v.strip().lower() for v in transfer_encodings] != ["chunked"]:
        raise _ambiguous("only Transfer-Encoding: chunked is accepted")
    values = {part.strip() for value in lengths for part in value.split(",")}
    if len(values) > 1 or any(_CONTENT_LENGTH.fullmatch(value) is None for value in values):
        raise _ambiguous("Content-Length must be one decimal number")


def _ambiguous(message: str) -> EarlyAnswer:
    return refuse(400, "ambiguous_framing", message, _CLOSE)
