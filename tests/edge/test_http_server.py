"""The CPython edge's HTTP/1.1 server, on the wire: keep-alive, pipelining, chunked and
``Expect: 100-continue`` request bodies, and malformed requests refused with a JSON 400."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.edge.behaviour.conftest import edge_env
from tests.edge.support.lab import Lab, running_lab
from tests.edge.support.launchers import CPythonLauncher
from tests.edge.support.raw_http import request_bytes, send_raw


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab() as server:
        yield server


@pytest.fixture(scope="module")
def edge(lab: Lab) -> Iterator[str]:
    with CPythonLauncher().start(edge_env(lab.base_url)) as url:
        yield url


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def read_responses(sock: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """``count`` Content-Length framed responses from ``sock`` (interim 1xx included)."""
    data = b""
    responses: list[tuple[int, dict[str, str], bytes]] = []
    while len(responses) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, "the edge closed the connection early"
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        while len(data) < length:
            data += sock.recv(65536)
        responses.append((int(lines[0].split()[1]), headers, data[:length]))
        data = data[length:]
    return responses


def echoed(body: bytes) -> Any:
    return json.loads(body)


def test_pipelined_requests_on_one_connection_are_answered_in_order(edge: str) -> None:
    with connect(edge) as sock:
        sock.sendall(request_bytes("GET", "/echo/one") + request_bytes("GET", "/echo/two"))
        responses = read_responses(sock, 2)

    assert [echoed(body)["target"] for _, _, body in responses] == ["/echo/one", "/echo/two"]
    assert all("connection" not in headers for _, headers, _ in responses)


def test_http10_without_keep_alive_closes_after_the_answer(edge: str) -> None:
    with connect(edge) as sock:
        sock.sendall(b"GET /echo/old HTTP/1.0\r\n\r\n")
        [(status, headers, _)] = read_responses(sock, 1)
        assert sock.recv(1) == b""

    assert (status, headers["connection"]) == (200, "close")


def test_a_chunked_request_body_is_forwarded_whole(edge: str) -> None:
    chunked = b"4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\nx-trailer: 1\r\n\r\n"
    response = send_raw(
        edge, request_bytes("POST", "/echo/chunked", ("Transfer-Encoding", "chunked"), body=chunked)
    )

    assert echoed(response.body)["body"] == "Wikipedia "


def test_expect_100_continue_gets_an_interim_answer_before_the_body(edge: str) -> None:
    with connect(edge) as sock:
        head = request_bytes(
            "POST", "/echo/expect", ("Content-Length", "5"), ("Expect", "100-continue")
        )
        sock.sendall(head)
        interim = sock.recv(65536)
        sock.sendall(b"hello")
        [(status, _, body)] = read_responses(sock, 1)

    assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert (status, echoed(body)["body"]) == (200, "hello")


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /echo/x HTTP/2.0\r\n\r\n",
        b"GET  /echo/x HTTP/1.1\r\n\r\n",
        b"GET /echo/x HTTP/1.1\r\nHost: a\r\n folded: value\r\n\r\n",
        b"GET /echo/x HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET /echo/x HTTP/1.1\r\nX-Bad: a\x00b\r\n\r\n",
        b"POST /echo/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["http2-line", "double-space", "obs-fold", "space-before-colon", "nul", "bad-chunk"],
)
def test_malformed_requests_are_a_json_400_and_the_connection_closes(
    edge: str, lab: Lab, raw: bytes
) -> None:
    with connect(edge) as sock:
        sock.sendall(raw)
        [(status, headers, body)] = read_responses(sock, 1)
        closed = sock.recv(1) == b""

    assert (status, headers["connection"], closed) == (400, "close", True)
    assert echoed(body)["error"]["code"] == "bad_request"
    assert headers["x-cache"] == "BYPASS"


def test_a_smuggling_shape_gets_the_pipelines_json_400_and_the_connection_closes(
    edge: str, lab: Lab
) -> None:
    hidden = b"0\r\n\r\nGET /echo/hidden-by-smuggling HTTP/1.1\r\nHost: x\r\n\r\n"
    framing = (("Content-Length", str(len(hidden))), ("Transfer-Encoding", "chunked"))
    with connect(edge) as sock:
        sock.sendall(request_bytes("POST", "/echo/smuggle", *framing, body=hidden))
        [(status, headers, body)] = read_responses(sock, 1)
        closed = sock.recv(1) == b""

    assert (status, echoed(body)["error"]["code"]) == (400, "ambiguous_framing")
    assert (headers["connection"], closed) == ("close", True)
    assert lab.received("/echo/hidden-by-smuggling") == []


def test_a_request_head_beyond_the_server_bound_is_431(edge: str) -> None:
    response = send_raw(edge, b"GET /echo/x HTTP/1.1\r\nX-Huge: " + b"a" * 140_000 + b"\r\n\r\n")

    assert response.status == 431
    assert response.json()["error"]["code"] == "headers_too_large"


def test_head_answers_carry_no_body(edge: str) -> None:
    with connect(edge) as sock:
        sock.sendall(request_bytes("HEAD", "/echo/head") + request_bytes("GET", "/echo/after"))
        data = b""
        while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"}"):
            data += sock.recv(65536)

    first, second = data.split(b"HTTP/1.1 ")[1:]
    assert first.endswith(b"\r\n\r\n")  # headers only, then straight to the next answer
    assert b"/echo/after" in second
