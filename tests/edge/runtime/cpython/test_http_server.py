"""The CPython edge's HTTP/1.1 server, on the wire: keep-alive, pipelining, chunked and
``Expect: 100-continue`` request bodies; every hostile request of ``tests/data/http`` refused
with its JSON error and the connection closed; bounded memory under floods; a client that reads
no answers stops being read; an answer h11 cannot send safely never reaches the client."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from edge.config import RequestLimits
from edge.http import EdgeRequest, EdgeResponse
from edge.runtime.cpython.http_server import EdgeServer
from tests.data.http import Flood, HostileRequest, floods, hostile_requests
from tests.edge.behaviour.conftest import edge_env
from tests.edge.support.lab import Lab, LabResponse, running_lab
from tests.edge.support.launchers import CPythonLauncher, edge_process
from tests.edge.support.raw_http import request_bytes, send_raw
from tests.edge.support.threads import ServerThread, bound_socket

REFUSED = [case for case in hostile_requests() if case.status != 200]
SERVED = [case for case in hostile_requests() if case.status == 200]
FLOOD_BYTES = 64 * 1_048_576


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab() as server:
        yield server


@pytest.fixture(scope="module")
def edge(lab: Lab) -> Iterator[str]:
    with CPythonLauncher().start(edge_env(lab.base_url)) as url:
        yield url


def connect(url: str, receive_buffer: int | None = None) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(10)
    if receive_buffer is not None:  # before connecting, so the window stays that small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect((parts.hostname, parts.port))
    return sock


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


def closed_by_the_edge(sock: socket.socket) -> bool:
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def echoed(body: bytes) -> Any:
    return json.loads(body)


def own_path(name: str) -> str:
    return f"/echo/{name}-{secrets.token_hex(4)}"


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.exc_info]


def test_pipelined_requests_on_one_connection_are_answered_in_order(edge: str) -> None:
    with connect(edge) as sock:
        sock.sendall(request_bytes("GET", "/echo/one") + request_bytes("GET", "/echo/two"))
        responses = read_responses(sock, 2)

    assert [echoed(body)["target"] for _, _, body in responses] == ["/echo/one", "/echo/two"]
    assert all("connection" not in headers for _, headers, _ in responses)


def test_a_pipelined_request_after_a_chunked_body_is_answered_too(edge: str) -> None:
    chunked = request_bytes(
        "POST", "/echo/first", ("Transfer-Encoding", "chunked"), body=b"3\r\nabc\r\n0\r\n\r\n"
    )
    with connect(edge) as sock:
        sock.sendall(chunked + request_bytes("GET", "/echo/second"))
        first, second = read_responses(sock, 2)

    assert (echoed(first[2])["body"], echoed(second[2])["target"]) == ("abc", "/echo/second")


def test_a_client_that_half_closes_after_its_request_still_gets_the_answer(edge: str) -> None:
    with connect(edge) as sock:
        sock.sendall(request_bytes("GET", "/echo/half-closed"))
        sock.shutdown(socket.SHUT_WR)
        [(status, _, body)] = read_responses(sock, 1)
        closed = closed_by_the_edge(sock)

    assert (status, echoed(body)["target"], closed) == (200, "/echo/half-closed", True)


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


def test_head_answers_carry_no_body(edge: str) -> None:
    with connect(edge) as sock:
        sock.sendall(request_bytes("HEAD", "/echo/head") + request_bytes("GET", "/echo/after"))
        data = b""
        while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"}"):
            data += sock.recv(65536)

    first, second = data.split(b"HTTP/1.1 ")[1:]
    assert first.endswith(b"\r\n\r\n")  # headers only, then straight to the next answer
    assert b"/echo/after" in second


@pytest.mark.parametrize("case", REFUSED, ids=[case.name for case in REFUSED])
def test_a_hostile_request_gets_its_json_refusal_and_the_connection_closes(
    edge: str, lab: Lab, caplog: pytest.LogCaptureFixture, case: HostileRequest
) -> None:
    path = own_path(case.name)
    with connect(edge) as sock:
        sock.sendall(case.bytes_for(path))
        [(status, headers, body)] = read_responses(sock, 1)  # the first answer: never a 100
        closed = closed_by_the_edge(sock)

    assert (status, echoed(body)["error"]["code"]) == (case.status, case.code)
    assert headers["content-type"] == "application/json"
    assert (headers["connection"], closed) == ("close", True)
    assert lab.received(path) == []
    assert lab.received(f"{path}-smuggled") == []
    assert tracebacks(caplog) == []


@pytest.mark.parametrize("case", SERVED, ids=[case.name for case in SERVED])
def test_a_request_that_is_unusual_but_unambiguous_is_served(
    edge: str, lab: Lab, case: HostileRequest
) -> None:
    path = own_path(case.name)
    with connect(edge) as sock:
        sock.sendall(case.bytes_for(path))
        [(status, _, body)] = read_responses(sock, 1)

    assert (status, echoed(body)["target"]) == (200, path)
    assert len(lab.received(path)) == 1


@pytest.fixture(scope="module")
def edge_in_a_process(lab: Lab) -> Iterator[tuple[str, int]]:
    with edge_process(edge_env(lab.base_url)) as (url, pid):
        send_raw(url, request_bytes("GET", "/echo/warm-up"))
        yield url, pid


def peak_memory_bytes(pid: int) -> int:
    """The process's peak resident set size (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.parametrize("flood", floods(), ids=[flood.name for flood in floods()])
def test_a_flood_is_refused_early_and_the_edge_holds_a_bounded_amount(
    edge_in_a_process: tuple[str, int], lab: Lab, flood: Flood
) -> None:
    url, pid = edge_in_a_process
    if not Path(f"/proc/{pid}/status").exists():
        pytest.skip("needs /proc to read the edge's memory")
    path = own_path(flood.name)
    before = peak_memory_bytes(pid)
    sent = [0]
    with connect(url) as sock:
        sender = threading.Thread(target=stream, args=(sock, flood, path, sent), daemon=True)
        sender.start()
        [(status, headers, body)] = read_responses(sock, 1)
        closed = closed_by_the_edge(sock)
        sock.shutdown(socket.SHUT_RDWR)  # stop the sender
        sender.join(timeout=30)

    assert (status, echoed(body)["error"]["code"]) == (flood.status, flood.code)
    assert (headers["connection"], closed) == ("close", True)
    assert peak_memory_bytes(pid) - before < 16 * 1_048_576, f"{sent[0]} bytes sent"
    assert lab.received(path) == []


def stream(sock: socket.socket, flood: Flood, path: str, sent: list[int]) -> None:
    block = flood.unit.encode() * (65_536 // len(flood.unit))
    try:
        sock.sendall(flood.head_for(path))
        while sent[0] < FLOOD_BYTES:
            sock.sendall(block)
            sent[0] += len(block)
    except OSError:
        return  # the edge closed the connection (or the test did)


def test_a_client_that_reads_no_answers_stops_being_read(edge: str, lab: Lab) -> None:
    big = LabResponse(200, (("cache-control", "no-store"),), b"x" * 65_536)
    path = lab.script(f"/big/{secrets.token_hex(4)}", big)
    count = 400  # 26 MB of answers, if the edge queued them all
    with connect(edge, receive_buffer=8192) as sock:
        sock.sendall(request_bytes("GET", path) * count)
        stalled = forwarded_once_stalled(lab, path)
        answers = read_responses(sock, count)

    # What the kernel's socket buffers take (a few MB) and one write buffer: far from all.
    assert stalled < count // 4
    assert [status for status, _, _ in answers] == [200] * count


def forwarded_once_stalled(lab: Lab, path: str) -> int:
    """How many requests reached the origin once that number stops growing."""
    seen, deadline = -1, time.monotonic() + 15
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = len(lab.received(path))
        if now == seen:
            return now
        seen = now
    return seen


@pytest.fixture
def edge_answering(request: pytest.FixtureRequest) -> Iterator[str]:
    """A bare EdgeServer whose handler answers ``request.param`` to everything."""
    answer: EdgeResponse = request.param

    async def handler(_: EdgeRequest) -> EdgeResponse:
        return EdgeResponse(answer.status, list(answer.headers), answer.body)

    sock, port = bound_socket()

    async def serve(stop: asyncio.Event) -> None:
        edge = EdgeServer(handler, limits=RequestLimits())
        server = await asyncio.get_running_loop().create_server(edge.protocol, sock=sock)
        async with server:
            await stop.wait()
            await edge.shutdown()

    thread = ServerThread(serve, "edge-answering")
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        thread.stop()


@pytest.mark.parametrize(
    "edge_answering",
    [
        EdgeResponse(200, [("x-note", "a\r\nset-cookie: injected=1")], b"ok"),
        EdgeResponse(200, [("x-note", "a\nset-cookie: injected=1")], b"ok"),
        EdgeResponse(200, [("x-note", "a\x00b")], b"ok"),
        EdgeResponse(200, [("x-note", "\u20ac")], b"ok"),
        EdgeResponse(200, [("bad name", "a")], b"ok"),
    ],
    ids=["crlf", "lf", "nul", "not-latin-1", "bad-name"],
    indirect=True,
)
def test_an_answer_http_cannot_carry_safely_becomes_a_502(
    edge_answering: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="outpost.edge"):
        response = send_raw(edge_answering, request_bytes("GET", "/anything"))

    assert (response.status, response.json()["error"]["code"]) == (502, "bad_gateway")
    assert "set-cookie" not in response.headers
    assert "cannot be sent as HTTP/1.1" in caplog.text
