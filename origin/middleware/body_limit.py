"""Refuse request bodies above a size limit with 413, without buffering them.

- A ``Content-Length`` above the limit is refused before the app runs, so the body is never read.
- A body of unknown length (chunked, HTTP/2 without a length) is counted as it streams; the
  ``receive`` call that crosses the limit raises :class:`PayloadTooLarge`, and from then on the
  middleware owns the response: whatever the app does with the exception (even catching it and
  answering 200), the client gets the 413, unless the app had already started a response, in
  which case the response is broken off.
- An invalid ``Content-Length`` is a 400.

A declared length is enforced by the server (h11/h2 refuse a body that disagrees with it), and
an HTTP/1 request with neither ``Content-Length`` nor ``Transfer-Encoding`` has no body: both pass
through untouched, so only bodies of unknown length pay for counting.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from origin.errors import ApiError, error_response

_CLOSE = {"connection": "close"}  # the unread body makes the connection unusable


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            "payload_too_large",
            f"the request body is larger than {limit} bytes",
            headers=_CLOSE,
            limit=limit,
        )


def parse_content_length(values: list[bytes]) -> int | None:
    """The declared length; ``None`` when absent. Raises ``ValueError`` when it is not valid.

    Repeated headers (or a comma list) must agree, as RFC 9110 allows and requires.
    """
    lengths = {part.strip() for value in values for part in value.split(b",")}
    if not lengths:
        return None
    if len(lengths) > 1:
        raise ValueError("conflicting Content-Length values")
    (length,) = lengths
    if not length.isdigit() or len(length) > 19:
        raise ValueError("Content-Length must be a non-negative whole number")
    return int(length)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must not be negative")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = []
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared.append(value)
            elif name == b"transfer-encoding":
                chunked = True
        if declared and not chunked:
            try:
                length = parse_content_length(declared)
            except ValueError as error:
                await error_response(400, "invalid_content_length", str(error), _CLOSE)(
                    scope, receive, send
                )
                return
            if length is not None and length > self.max_body_bytes:
                await PayloadTooLarge(self.max_body_bytes).to_response()(scope, receive, send)
                return
            # The server holds the client to its declared length, so no counting is needed.
            await self.app(scope, receive, send)
            return

        if not chunked and scope.get("http_version", "1.1").startswith("1"):
            # HTTP/1 without either header means no body at all (RFC 9112, 6.3).
            await self.app(scope, receive, send)
            return
        await self._counting(scope, receive, send)

    async def _counting(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_bytes
        received = 0
        too_large = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                raise PayloadTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise PayloadTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if too_large:
                return  # the app's answer to an oversized body is replaced by ours
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # Whatever the app turned our exception into, the answer is the 413 below; any other
            # failure is not ours to answer.
            if not too_large:
                raise
        if too_large and not response_started:
            await PayloadTooLarge(limit).to_response()(scope, receive, send)
