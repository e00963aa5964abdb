"""The servers' own error answers in the origin's JSON error body.

Every other error of the origin is ``{"error": {"code", "message"}}``, and clients (the edge
among them) should need one way of reading errors, on whichever server the origin runs.

**uvicorn** (httptools) answers a request llhttp cannot parse with a plain-text 400; it takes its
HTTP protocol as a class (``Config(http=...)``), and :class:`JsonErrorHttpToolsProtocol` is that
class with the answer in JSON. It also bounds the head at :data:`MAX_HEAD_BYTES` (431):
httptools has no limit of its own, and would buffer a head without end.

**Hypercorn** answers a few HTTP/1.1 requests itself, before the application sees them, and with an
empty body: a request h11 cannot parse (400: a malformed request line, two ``Host`` headers,
conflicting ``Content-Length``...) and a head larger than h11 will buffer (431: more than
``h11_max_incomplete_size`` bytes, set to :data:`MAX_HEAD_BYTES`, before the head is complete).
Hypercorn has no setting for these bodies, so
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
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from origin.middleware.request_head import MAX_HEADER_BYTES
from shared.errors import error_body

logger = logging.getLogger("outpost.origin")

_PROTOCOL_ERRORS = {
    400: ("bad_request", "the request is not valid HTTP/1.1"),
    431: ("headers_too_large", "the request head is too large"),
    # h11's answer to a Transfer-Encoding other than chunked (RFC 9112 section 6.1).
    501: ("not_implemented", "the request's transfer coding is not supported"),
}
# The servers' bound on a request head still arriving: above what the app itself accepts
# (MAX_HEADER_BYTES of fields, refused with its own 431) plus room for the request line, so a
# head the app would serve is never cut by the server because it came in several reads.
MAX_HEAD_BYTES = MAX_HEADER_BYTES + 16 * 1024
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


class JsonErrorHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol whose own error answers are the origin's JSON error body."""

    _refusal = 400  # what the next protocol error answers: 400, or 431 for a head too large
    _head_bytes = 0  # bytes received since the current request began, while its head is open
    _head_open = False

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_open:
            # The whole chunk counts (the head began in it or before it, and has not ended): at
            # most one read's worth more than the head itself.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
                self._refusal = 431
                self.send_400_response("")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._head_open = False
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's one way of answering a request it will not serve (the name is uvicorn's)."""
        status = self._refusal
        body = protocol_error_body(status)
        head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode(), b"\r\n"]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode() + b"\r\n",
                b"connection: close\r\n\r\n",
            ]
        )
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return f"HTTP {status}"
