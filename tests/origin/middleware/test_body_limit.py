"""Bodies over the limit are refused with 413 before they are read; bad lengths get 400."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Scope

from origin.middleware import BodyLimitMiddleware
from origin.middleware.body_limit import parse_content_length
from tests.origin.middleware.apps import client_for, origin_like_app
from tests.origin.middleware.hypercorn_server import hypercorn_serving

pytestmark = pytest.mark.anyio

LIMIT = 1024


class Upload:
    """An endpoint that records whether it ran and echoes how many bytes it read."""

    def __init__(self) -> None:
        self.calls = 0

    async def endpoint(self, request: Request) -> JSONResponse:
        self.calls += 1
        body = await request.body()
        return JSONResponse({"received": len(body)})


async def swallowing_upload(request: Request) -> Response:
    # A careless handler that hides every error: the 413 must still reach the client.
    try:
        await request.body()
    except Exception:
        return PlainTextResponse("everything is fine")
    return PlainTextResponse("read it all")


def upload_app(upload: Upload | None = None) -> Any:
    routes = [
        Route("/upload", (upload or Upload()).endpoint, methods=["POST"]),
        Route("/swallow", swallowing_upload, methods=["POST"]),
    ]
    return origin_like_app(routes, max_body_bytes=LIMIT)


async def chunked(total: int, chunk: int = 256) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        size = min(chunk, total - sent)
        sent += size
        yield b"x" * size


async def test_a_declared_length_over_the_limit_is_refused_without_running_the_app() -> None:
    upload = Upload()
    async with client_for(upload_app(upload)) as client:
        response = await client.post("/upload", content=b"x" * (LIMIT + 1))

    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "payload_too_large",
            "message": f"the request body is larger than {LIMIT} bytes",
            "limit": LIMIT,
        }
    }
    assert response.headers["connection"] == "close"
    assert upload.calls == 0


async def test_a_body_exactly_at_the_limit_is_accepted() -> None:
    async with client_for(upload_app()) as client:
        response = await client.post("/upload", content=b"x" * LIMIT)

    assert response.status_code == 200
    assert response.json() == {"received": LIMIT}


async def test_a_streamed_body_within_the_limit_reaches_the_app_whole() -> None:
    async with client_for(upload_app()) as client:
        response = await client.post("/upload", content=chunked(LIMIT, chunk=100))

    assert response.status_code == 200
    assert response.json() == {"received": LIMIT}


async def test_a_streamed_body_over_the_limit_is_refused() -> None:
    async with client_for(upload_app()) as client:
        response = await client.post("/upload", content=chunked(LIMIT + 1, chunk=100))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_an_app_that_swallows_the_error_still_answers_413() -> None:
    async with client_for(upload_app()) as client:
        over = await client.post("/swallow", content=chunked(LIMIT * 4))
        under = await client.post("/swallow", content=chunked(LIMIT))

    assert over.status_code == 413
    assert over.json()["error"]["code"] == "payload_too_large"
    assert (under.status_code, under.text) == (200, "read it all")


async def call_raw(
    app: Any,
    headers: list[tuple[bytes, bytes]],
    *,
    body_chunks: tuple[bytes, ...] = (b"hello",),
    http_version: str = "1.1",
) -> tuple[int, dict[str, Any]]:
    """Drive the ASGI app directly: httpx would not send a malformed Content-Length."""
    sent: list[Message] = []
    pending = list(body_chunks)

    async def receive() -> Message:
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"five")],
        [(b"content-length", b"-5")],
        [(b"content-length", b"")],
        [(b"content-length", b"5, 6")],
        [(b"content-length", b"5"), (b"content-length", b"6")],
        [(b"content-length", b"1" * 30)],
    ],
)
async def test_an_invalid_content_length_is_a_400(headers: list[tuple[bytes, bytes]]) -> None:
    upload = Upload()
    status, body = await call_raw(upload_app(upload), headers)

    assert status == 400
    assert body["error"]["code"] == "invalid_content_length"
    assert upload.calls == 0


async def test_repeated_content_lengths_that_agree_are_accepted() -> None:
    status, body = await call_raw(upload_app(), [(b"content-length", b"5, 5")])
    assert (status, body) == (200, {"received": 5})


async def test_an_http2_body_without_a_length_is_counted_too() -> None:
    chunks = (b"x" * 600, b"x" * 600, b"x" * 600)
    status, body = await call_raw(upload_app(), [], body_chunks=chunks, http_version="2")
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"

    status, body = await call_raw(upload_app(), [], body_chunks=chunks[:1], http_version="2")
    assert (status, body) == (200, {"received": 600})


def test_content_length_parsing() -> None:
    assert parse_content_length([]) is None
    assert parse_content_length([b"0"]) == 0
    assert parse_content_length([b" 42 "]) == 42
    assert parse_content_length([b"7", b"7"]) == 7
    with pytest.raises(ValueError, match="conflicting"):
        parse_content_length([b"7", b"8"])
    with pytest.raises(ValueError, match="whole number"):
        parse_content_length([b"+7"])


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        BodyLimitMiddleware(upload_app(), max_body_bytes=-1)


async def read_response_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


async def test_on_a_real_server_an_oversized_declared_body_is_refused_before_it_is_sent() -> None:
    upload = Upload()
    async with hypercorn_serving(upload_app(upload)) as (host, port):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            # Only the head goes out: had the server waited for the 10 MB body, this would hang.
            writer.write(b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 10000000\r\n\r\n")
            await writer.drain()
            status, headers, body = await asyncio.wait_for(read_response_head(reader), 5)
            closed = await asyncio.wait_for(reader.read(), 5)
        finally:
            writer.close()
            await writer.wait_closed()

    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert headers["connection"] == "close"
    assert closed == b""  # the server hung up rather than read the rest
    assert upload.calls == 0


async def test_on_a_real_server_a_chunked_body_is_refused_as_soon_as_it_crosses_the_limit() -> None:
    async with hypercorn_serving(upload_app()) as (host, port):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(
                b"POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            # Just over the limit, and no terminating chunk: the body has not ended.
            for _ in range(LIMIT // 256 + 1):
                writer.write(b"100\r\n" + b"x" * 256 + b"\r\n")
            await writer.drain()
            status, _, body = await asyncio.wait_for(read_response_head(reader), 5)
        finally:
            writer.close()
            await writer.wait_closed()

    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"


async def test_on_a_real_server_a_streamed_upload_within_the_limit_arrives_whole() -> None:
    async def digest(request: Request) -> JSONResponse:
        chunks = [chunk async for chunk in request.stream()]
        body = b"".join(chunks)
        return JSONResponse({"received": len(body), "all_x": body == b"x" * len(body)})

    app = origin_like_app([Route("/digest", digest, methods=["POST"])], max_body_bytes=LIMIT)
    async with hypercorn_serving(app) as (host, port), httpx.AsyncClient() as client:
        response = await client.post(
            f"http://{host}:{port}/digest", content=chunked(LIMIT - 10, chunk=64)
        )

    assert response.status_code == 200
    assert response.json() == {"received": LIMIT - 10, "all_x": True}
