"""Refuse request heads the origin must not act on, before anything reads them.

- A header that carries one value (``Authorization``, ``Host``, ``Content-Type``...) sent more
  than once is refused: a component that reads the first and one that reads the last would act
  on different values (two credentials, two body types). Repeated credentials get exactly the
  edge's answer, 401 ``invalid_request`` with its ``WWW-Authenticate`` challenge (Fetch-API
  runtimes join repeated fields into one, so the edge cannot tell two fields from one malformed
  credential, and the origin must not accept what the edge refuses since it can be reached
  directly too); any other repeated singleton is a 400 ``duplicate_header``.
- An HTTP/1.1 request without ``Host`` is a 400 (RFC 9112 section 3.2 says a server MUST refuse
  it), whichever server parsed it: h11 refuses it, llhttp and granian let it through.
- A WebSocket handshake is refused: the origin serves no WebSocket. Where the server can answer a
  handshake over HTTP (ASGI's ``websocket.http.response`` extension: Hypercorn), the answer is the
  same JSON 400 as any other refusal; otherwise the handshake is closed, which servers send as a
  bare 403. (``outpost origin`` on uvicorn runs without WebSocket support, so there an
  ``Upgrade: websocket`` request is an ordinary HTTP request.)
- More header fields than :data:`MAX_HEADER_COUNT`, or more bytes of them than
  :data:`MAX_HEADER_BYTES`, is a 431. The bounds sit above the edge's (100 fields, 32 KiB, plus
  what the edge adds when it forwards), so a request the edge passes on is never refused here.

Both answers are the usual JSON error body, with ``Connection: close``: a body the client may
be sending is left unread.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from origin.errors import error_response
from shared.assertion import ASSERTION_HEADER
from shared.jwt import SAFE_DESCRIPTIONS, www_authenticate_header

# Headers whose one value the origin (or the server, or a proxy) acts on. List-valued headers
# (If-None-Match, Accept, Cookie over HTTP/2...) may legitimately come as several fields.
SINGLETON_HEADERS = frozenset(
    {
        b"authorization",
        b"content-length",
        b"content-type",
        b"host",
        b"idempotency-key",
        ASSERTION_HEADER.lower().encode(),
    }
)
MAX_HEADER_COUNT = 128
MAX_HEADER_BYTES = 48 * 1024  # counted as the edge counts: name, value and 4 bytes a field

_CLOSE = {"connection": "close"}


class RequestHeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await _refuse_websocket(WebSocket(scope, receive, send))
            return
        refusal = None
        if scope["type"] == "http":
            refusal = head_refusal(scope["headers"], scope.get("http_version", "1.1"))
        if refusal is None:
            await self.app(scope, receive, send)
            return
        await refusal(scope, receive, send)


def head_refusal(
    headers: Sequence[tuple[bytes, bytes]], http_version: str = "1.1"
) -> Response | None:
    """The answer to a request with these headers, or ``None`` when they may go on."""
    if len(headers) > MAX_HEADER_COUNT:
        return _too_large(f"send at most {MAX_HEADER_COUNT} headers")
    size = 0
    seen: set[bytes] = set()
    for name, value in headers:
        size += len(name) + len(value) + 4
        if name in SINGLETON_HEADERS:
            if name in seen:
                if name == b"authorization":
                    return _invalid_request()
                header = name.decode("latin-1")
                message = f"the {header} header may be sent once"
                return error_response(400, "duplicate_header", message, _CLOSE, header=header)
            seen.add(name)
    if size > MAX_HEADER_BYTES:
        return _too_large(f"headers are limited to {MAX_HEADER_BYTES} bytes")
    if http_version == "1.1" and b"host" not in seen:
        message = "an HTTP/1.1 request needs a Host header"
        return error_response(400, "missing_host", message, _CLOSE)
    return None


async def _refuse_websocket(websocket: WebSocket) -> None:
    if "websocket.http.response" in (websocket.scope.get("extensions") or {}):
        message = "this server does not speak WebSocket"
        await websocket.send_denial_response(error_response(400, "websocket_unsupported", message))
    else:
        await websocket.close()


def _too_large(message: str) -> Response:
    return error_response(431, "headers_too_large", message, _CLOSE)


def _invalid_request() -> Response:
    challenge = {"WWW-Authenticate": www_authenticate_header("invalid_request"), **_CLOSE}
    return error_response(401, "invalid_request", SAFE_DESCRIPTIONS["invalid_request"], challenge)
