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

from origin.server_errors import MAX_HEAD_BYTES
from tests.origin.cli.test_serve import OUTPOST, running, stop, wait_for
from tests.support.ports import free_port

Address = tuple[str, int]
JSON_ERROR_SERVERS = ["uvicorn", "hypercorn"]

UNPARSABLE = {
    "bad request line": b"GET /healthz HTTP/1.1 trailing\r\nHost: origin\r\n\r\n",
    "two hosts": b"GET /healthz HTTP/1.1\r\nHost: origin\r\nHost: elsewhere\r\n\r\n",
    "two lengths": b"POST /auth/register HTTP/1.1\r\nHost: origin\r\nContent-Length: 2\r\n"
    b"Content-Length: 3\r\n\r\n{}",
    "space in a header name": b"GET /healthz HTTP/1.1\r\nHost: origin\r\nBad Header: x\r\n\r\n",
    "NUL in the target": b"GET /heal\x00thz HTTP/1.1\r\nHost: origin\r\n\r\n",
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


def exchange(address: Address, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Write ``request``, read until the server closes; the status, headers and body."""
    with socket.create_connection(address, timeout=10) as connection:
        # The server may answer and close while the head is still coming.
        with suppress(ConnectionResetError):
            connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


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


def test_a_head_just_under_the_limit_is_served(served: Address) -> None:
    request = head_of(MAX_HEAD_BYTES - 1024) + b"\r\nConnection: close\r\n\r\n"

    status, _, _ = exchange(served, request)

    assert status == 200


def test_granian_answers_protocol_errors_itself_with_an_empty_body(tmp_path: Path) -> None:
    # Two Host headers pass granian and reach the app, which refuses them itself (in JSON).
    # Its head limit is its read buffer (HTTP1Settings.max_buffer_size, ~408 KiB).
    with served_by("granian", tmp_path) as address:
        answers = [
            exchange(address, request)
            for name, request in UNPARSABLE.items()
            if name != "two hosts"
        ]
        two_hosts = exchange(address, UNPARSABLE["two hosts"])
        too_large = exchange(address, head_of(600_000))

    assert [status for status, _, _ in answers] == [400] * len(answers)
    assert [body for _, _, body in answers] == [b""] * len(answers)
    assert too_large[0] == 431
    assert too_large[2] == b""
    assert two_hosts[0] == 400
    assert two_hosts[1]["content-type"] == "application/json"
