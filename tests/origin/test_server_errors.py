"""What Hypercorn answers before the origin app sees a request carries the JSON error body too:
the origin (create_app) served by a real Hypercorn, spoken to over a raw socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from origin.app import create_app
from origin.settings import Settings
from tests.origin.middleware.hypercorn_server import hypercorn_serving

pytestmark = pytest.mark.anyio

Address = tuple[str, int]


@pytest.fixture
async def served_origin(seeded_url: str, tmp_path: Path) -> AsyncIterator[Address]:
    settings = Settings.from_mapping(
        {"OUTPOST_DATA_DIR": str(tmp_path), "DATABASE_URL": seeded_url}
    )
    async with hypercorn_serving(create_app(settings)) as address:
        yield address


async def exchange(address: Address, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Write ``request``, read until the server closes; the status, headers and body."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


async def test_a_head_larger_than_the_server_buffers_is_a_json_431(
    served_origin: Address,
) -> None:
    # No blank line: the head is still incomplete when it passes h11_max_incomplete_size.
    request = b"GET /healthz HTTP/1.1\r\nHost: origin\r\nX-Large: " + b"a" * 20_000

    status, headers, body = await exchange(served_origin, request)

    assert status == 431
    assert headers["content-type"] == "application/json"
    assert (
        body == b'{"error":{"code":"headers_too_large","message":"the request head is too large"}}'
    )


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1 trailing\r\nHost: origin\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: origin\r\nHost: elsewhere\r\n\r\n",
        b"POST /auth/register HTTP/1.1\r\nHost: origin\r\nContent-Length: 2\r\n"
        b"Content-Length: 3\r\n\r\n{}",
        b"GET /healthz HTTP/1.1\r\nHost: origin\r\nBad Header: x\r\n\r\n",
    ],
    ids=["bad request line", "two hosts", "two lengths", "space in a header name"],
)
async def test_a_request_the_server_cannot_parse_is_a_json_400(
    served_origin: Address, request_bytes: bytes
) -> None:
    status, headers, body = await exchange(served_origin, request_bytes)

    assert status == 400
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert json.loads(body) == {
        "error": {"code": "bad_request", "message": "the request is not valid HTTP/1.1"}
    }
