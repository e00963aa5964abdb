"""Hypercorn's own error answers in the origin's JSON error body.

Hypercorn answers a few HTTP/1.1 requests itself, before the application sees them, and with an
empty body: a request h11 cannot parse (400: a malformed request line, two ``Host`` headers,
conflicting ``Content-Length``...) and a head larger than h11 will buffer (431: more than
``h11_max_incomplete_size`` bytes before the head is complete). Every other error of the origin
is ``{"error": {"code", "message"}}``, and clients (the edge among them) should need one way of
reading errors. Hypercorn has no setting for these bodies, so
:func:`answer_protocol_errors_as_json` replaces the one method that writes them,
``H11Protocol._send_error_response``, with one that sends the same status and headers plus the
JSON body. (An HTTP/2 protocol error resets the stream: there is no response to give a body.)

The method is Hypercorn's internals: the test suite checks the answer through a real Hypercorn,
so a release that changes them fails there, and here the server is then left as it is (with a
warning) rather than broken.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

import h11
from hypercorn.protocol.h11 import H11Protocol

from shared.errors import error_body

logger = logging.getLogger("outpost.origin")

_PROTOCOL_ERRORS = {
    400: ("bad_request", "the request is not valid HTTP/1.1"),
    431: ("headers_too_large", "the request head is too large"),
}
_REPLACED_METHOD = "_send_error_response"
_METHODS_USED = (_REPLACED_METHOD, "_send_h11_event")


def protocol_error_body(status: int) -> bytes:
    """The JSON error body for a status the server gives before the application runs."""
    code, message = _PROTOCOL_ERRORS.get(status, ("bad_request", _phrase(status)))
    return json.dumps(error_body(code, message), separators=(",", ":")).encode()


def answer_protocol_errors_as_json() -> None:
    """Make Hypercorn's HTTP/1.1 error answers JSON (idempotent; process-wide)."""
    current = getattr(H11Protocol, _REPLACED_METHOD, None)
    if current is _send_json_error_response:
        return
    if not all(callable(getattr(H11Protocol, name, None)) for name in _METHODS_USED):
        logger.warning(
            "this Hypercorn has no %s: its protocol errors keep an empty body", _REPLACED_METHOD
        )
        return
    H11Protocol._send_error_response = _send_json_error_response  # type: ignore[method-assign]


async def _send_json_error_response(self: Any, status_code: int) -> None:
    body = protocol_error_body(status_code)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *self.config.response_headers("h11"),
    ]
    await self._send_h11_event(h11.Response(status_code=status_code, headers=headers))
    await self._send_h11_event(h11.Data(data=body))
    await self._send_h11_event(h11.EndOfMessage())


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return f"HTTP {status}"
