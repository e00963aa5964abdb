"""What the server answers itself, before the origin app sees a request, carries the JSON error
body too: ``outpost origin --server ...`` as a real process, spoken to over a raw socket.

granian answers these itself with an empty body and has no way to change that; it is tested to
do so, which is why it is not the default server (docs/deploy.md, Choosing the server).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from origin.middleware.request_head import MAX_HEADER_BYTES
from origin.server_errors import MAX_HEAD_BYTES
from tests.origin.cli.test_serve import OUTPOST, running, stop, wait_for
from tests.support.ports import free_port

Address = tuple[str, int]
JSON_ERROR_SERVERS = ["uvicorn", "hypercorn"]

UNPARSABLE = {
    "bad request line": b"GET /healthz HTTP/1.1 trailing\r\nHost: origin\r\n\r\n",
    "two lengths": b"POST /auth/register HTTP/1.1\r\nHost: origin\r\nContent-Length: 2\r\n"
    b"Content-Length: 3\r\n\r\n{}",
    "space in a header name": b"GET /healthz HTTP/1.1\r\nHost: origin\r\nBad Header: x\r\n\r\n",
    "NUL in the target": b"GET /heal\x00thz HTTP/1.1\r\nHost: origin\r\n\r\n",
}


# Heads outside the protocol or on its edges, which each server answers in its own way (a 400 for
# one, the app's answer for another). Whatever the answer, it is not left without a JSON body.
HOSTILE = {
    "two hosts": b"GET /healthz HTTP/1.1\r\nHost: origin\r\nHost: elsewhere\r\n\r\n",
    "no host": b"GET /healthz HTTP/1.1\r\n\r\n",
    "Transfer-Encoding and Content-Length": b"POST /auth/register HTTP/1.1\r\nHost: o\r\n"
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "unknown transfer coding": b"POST /auth/register HTTP/1.1\r\nHost: o\r\n"
    b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "chunk size overflow": b"POST /auth/register HTTP/1.1\r\nHost: o\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n",
    "length in unicode digits": "POST /auth/register HTTP/1.1\r\nHost: o\r\n"
    "Content-Length: \uff12\r\n\r\n{}".encode(),
    "length past 64 bits": b"POST /auth/register HTTP/1.1\r\nHost: o\r\n"
    b"Content-Length: 99999999999999999999999\r\n\r\n",
    "NUL in a header value": b"GET /healthz HTTP/1.1\r\nHost: o\r\nX-A: a\x00b\r\n\r\n",
    "control character in a header value": b"GET /healthz HTTP/1.1\r\nHost: o\r\nX-A: \x01\r\n\r\n",
    "folded header": b"GET /healthz HTTP/1.1\r\nHost: o\r\nX-A: a\r\n b\r\n\r\n",
    "UTF-8 in a header name": "GET /healthz HTTP/1.1\r\nHost: o\r\nX-\u00e9: a\r\n\r\n".encode(),
    "unknown method": b"FOO /healthz HTTP/1.1\r\nHost: o\r\n\r\n",
    "TLS on the plain port": bytes.fromhex("160301002a010000260303") + bytes(40),
    "WebSocket handshake": b"GET /healthz HTTP/1.1\r\nHost: o\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n",
    "request line of 100 KB": b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: o\r\n\r\n",
}


def head_of(size: int) -> bytes:
    """A request head of more than ``size`` bytes, still incomplete (no blank line)."""
    return b"GET /healthz HTTP/1.1\r\nHost: origin\r\nX-Large: " + b"a" * size


@contextmanager
def served_by(server: str, data_dir: Path) -> Iterator[Address]:
    """The address of ``outpost origin --server server`` on a migrated database."""
    env = {"OUTPOST_DATA_DIR": str(data_dir), "OUTPOST_LOG_LEVEL": "ERROR"}
    subprocess.run([*OUTPOST, "db", "upgrade"], env={**os.environ, **env}, check=True)  # noqa: S603
    port = free_port()
    with running(["origin", "--server", server, "--port", str(port)], env) as process:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield "127.0.0.1", port
        stop(process)


@pytest.fixture(scope="module", params=JSON_ERROR_SERVERS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Address]:
    with served_by(request.param, tmp_path_factory.mktemp(request.param)) as address:
        yield address


def exchange(
    address: Address, request: bytes, *, piece_bytes: int | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Write ``request`` (in writes of ``piece_bytes``, if given), read one answer; its status,
    headers and body."""
    with socket.create_connection(address, timeout=10) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The server may answer and close while the head is still coming.
        with suppress(ConnectionResetError, BrokenPipeError):
            for start in range(0, len(request), piece_bytes or len(request)):
                connection.sendall(request[start : start + (piece_bytes or len(request))])
        answer = b""
        while not _complete(answer) and (chunk := connection.recv(65536)):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def _complete(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole response with a Content-Length (a kept-alive connection
    would not close to say so)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def test_a_head_larger_than_the_server_buffers_is_a_json_431(
    served: Address,
) -> None:
    status, headers, body = exchange(served, head_of(MAX_HEAD_BYTES + 4096))

    assert status == 431
    assert headers["content-type"] == "application/json"
    assert (
        body == b'{"error":{"code":"headers_too_large","message":"the request head is too large"}}'
    )


@pytest.mark.parametrize("request_bytes", UNPARSABLE.values(), ids=UNPARSABLE.keys())
def test_a_request_the_server_cannot_parse_is_a_json_400(
    served: Address, request_bytes: bytes
) -> None:
    status, headers, body = exchange(served, request_bytes)

    assert status == 400
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert json.loads(body) == {
        "error": {"code": "bad_request", "message": "the request is not valid HTTP/1.1"}
    }


@pytest.mark.parametrize("request_bytes", HOSTILE.values(), ids=HOSTILE.keys())
def test_every_answer_to_a_hostile_head_is_json(served: Address, request_bytes: bytes) -> None:
    status, headers, body = exchange(served, request_bytes)

    assert status < 500 or status == 501  # 501: a transfer coding the server does not know
    if status >= 400:
        assert headers["content-type"] == "application/json"
        assert set(json.loads(body)["error"]) >= {"code", "message"}


def test_a_head_the_app_accepts_is_served_even_when_it_comes_in_pieces(served: Address) -> None:
    # Just under what the app accepts, in small writes: a server whose bound counted reads, or
    # sat below the app's, would refuse a head that came slowly.
    request = head_of(MAX_HEADER_BYTES - 1024) + b"\r\nConnection: close\r\n\r\n"

    status, _, _ = exchange(served, request, piece_bytes=4096)

    assert status == 200


def test_granian_answers_protocol_errors_itself_with_an_empty_body(tmp_path: Path) -> None:
    # Two Host headers pass granian and reach the app, which refuses them itself (in JSON).
    # Its head limit is its read buffer (HTTP1Settings.max_buffer_size, ~408 KiB).
    with served_by("granian", tmp_path) as address:
        answers = [exchange(address, request) for request in UNPARSABLE.values()]
        two_hosts = exchange(address, HOSTILE["two hosts"])
        too_large = exchange(address, head_of(600_000))

    assert [status for status, _, _ in answers] == [400] * len(answers)
    assert [body for _, _, body in answers] == [b""] * len(answers)
    assert too_large[0] == 431
    assert too_large[2] == b""
    assert two_hosts[0] == 400
    assert two_hosts[1]["content-type"] == "application/json"
