"""The upstream port on CPython, both implementations, against real sockets: what counts as a
failure, a timeout, and a well-formed answer; the lean client's pooling and HTTP/1.1 framing, and
the hostile origin answers of ``tests/data/http/origin_answers.json``."""

from __future__ import annotations

import gzip
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from edge.ports import UpstreamFailed, UpstreamRequest, UpstreamTimeout
from edge.runtime.cpython.http1 import PooledHttp1Upstream
from edge.runtime.cpython.runtime import HttpxUpstream
from tests.data.http import OriginAnswer, origin_answers
from tests.edge.support.lab import CLOSE, GARBAGE, HANG, RESET, Lab, LabResponse, running_lab
from tests.edge.support.threads import bound_socket

pytestmark = pytest.mark.anyio
Upstream = PooledHttp1Upstream | HttpxUpstream
REFUSED = origin_answers("refused")
DESYNC = origin_answers("desync")


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab() as server:
        yield server


@pytest.fixture(params=["http1", "httpx"])
async def upstream(request: pytest.FixtureRequest) -> AsyncIterator[Upstream]:
    if request.param == "http1":
        lean = PooledHttp1Upstream(max_body_bytes=1000)
        yield lean
        await lean.aclose()
    else:
        async with httpx.AsyncClient(trust_env=False) as client:
            client.headers.clear()
            yield HttpxUpstream(client, max_body_bytes=1000)


@pytest.fixture
async def lean() -> AsyncIterator[PooledHttp1Upstream]:
    client = PooledHttp1Upstream(max_body_bytes=1000)
    yield client
    await client.aclose()


def get(url: str, timeout: float = 2.0, method: str = "GET", body: bytes = b"") -> UpstreamRequest:
    return UpstreamRequest(method, url, [("x-chosen", "1")], body, timeout)


def scripted(lab: Lab, *answers: LabResponse) -> str:
    return lab.base_url + lab.script(f"/u/{secrets.token_hex(4)}", *answers)


@pytest.mark.parametrize(
    "failure",
    [
        GARBAGE,
        RESET,
        CLOSE,
        LabResponse(
            raw=b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n"
        ),
        LabResponse(raw=b"HTTP/1.1 200 OK\r\nbad header line\r\n\r\n"),
        LabResponse(raw=b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort"),
        LabResponse(raw=b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"),
    ],
    ids=["garbage", "reset", "close", "te-and-cl", "bad-header", "short-body", "bad-chunk"],
)
async def test_broken_answers_are_upstream_failed(
    lab: Lab, upstream: Upstream, failure: LabResponse
) -> None:
    with pytest.raises(UpstreamFailed):
        await upstream.fetch(get(scripted(lab, failure)))


async def test_a_refused_connection_is_upstream_failed(upstream: Upstream) -> None:
    sock, port = bound_socket()
    sock.close()

    with pytest.raises(UpstreamFailed):
        await upstream.fetch(get(f"http://127.0.0.1:{port}/"))


async def test_no_answer_in_time_is_upstream_timeout(lab: Lab, upstream: Upstream) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        await upstream.fetch(get(scripted(lab, HANG), timeout=0.3))

    assert time.monotonic() - started < 2


async def test_an_oversized_answer_is_upstream_failed(lab: Lab, upstream: Upstream) -> None:
    with pytest.raises(UpstreamFailed, match="too large"):
        await upstream.fetch(get(scripted(lab, LabResponse(200, (), b"x" * 1001))))


async def test_bodies_arrive_as_sent_never_decompressed(lab: Lab, upstream: Upstream) -> None:
    compressed = gzip.compress(b"hello")
    url = scripted(lab, LabResponse(200, (("content-encoding", "gzip"),), compressed))

    response = await upstream.fetch(get(url))

    assert response.body == compressed
    assert ("content-encoding", "gzip") in response.headers


async def test_only_the_chosen_headers_are_sent_with_the_body(lab: Lab, upstream: Upstream) -> None:
    url = f"{lab.base_url}/echo/{secrets.token_hex(4)}"
    response = await upstream.fetch(get(url, method="POST", body=b"abc"))

    echoed = json.loads(response.body)
    assert sorted(name for name, _ in echoed["headers"]) == ["content-length", "host", "x-chosen"]
    assert echoed["body"] == "abc"


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            b"abcde",
        ),
        (
            b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
            b"ok",
        ),
        (b"HTTP/1.0 200 OK\r\n\r\nuntil the close", b"until the close"),
        (b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n", b""),
    ],
    ids=["chunked", "interim-1xx", "close-delimited", "no-content"],
)
async def test_the_lean_client_reads_every_http11_framing(
    lab: Lab, lean: PooledHttp1Upstream, raw: bytes, body: bytes
) -> None:
    response = await lean.fetch(get(scripted(lab, LabResponse(raw=raw))))

    assert response.body == body


async def test_the_lean_client_reuses_one_connection(lab: Lab, lean: PooledHttp1Upstream) -> None:
    url = f"{lab.base_url}/echo/{secrets.token_hex(4)}"
    for _ in range(5):
        await lean.fetch(get(url))

    assert len(lean._idle[("http", "127.0.0.1", int(url.split(":")[2].split("/")[0]))]) == 1


async def test_a_connection_the_origin_closed_silently_is_not_an_error(
    lab: Lab, lean: PooledHttp1Upstream
) -> None:
    url = scripted(
        lab, LabResponse(200, (), b"first", close_after=True), LabResponse(200, (), b"second")
    )

    first = await lean.fetch(get(url))
    second = await lean.fetch(get(url))

    assert (first.body, second.body) == (b"first", b"second")


async def test_connection_close_from_the_origin_is_honoured(
    lab: Lab, lean: PooledHttp1Upstream
) -> None:
    url = scripted(lab, LabResponse(200, (("connection", "close"),), b"bye"))

    await lean.fetch(get(url))

    assert all(not idle for idle in lean._idle.values())


@pytest.mark.parametrize("answer", REFUSED, ids=[answer.name for answer in REFUSED])
async def test_a_hostile_origin_answer_is_upstream_failed(
    lab: Lab, lean: PooledHttp1Upstream, answer: OriginAnswer
) -> None:
    with pytest.raises(UpstreamFailed):
        await lean.fetch(get(scripted(lab, LabResponse(raw=answer.raw))))


@pytest.mark.parametrize("answer", DESYNC, ids=[answer.name for answer in DESYNC])
async def test_bytes_after_a_whole_answer_never_answer_the_next_request(
    lab: Lab, lean: PooledHttp1Upstream, answer: OriginAnswer
) -> None:
    url = scripted(lab, LabResponse(raw=answer.raw), LabResponse(200, (), b"second"))

    first = await lean.fetch(get(url))
    second = await lean.fetch(get(url))

    assert (first.body, second.body) == (b"ok", b"second")


async def test_a_header_value_with_a_line_break_is_never_sent(lab: Lab, upstream: Upstream) -> None:
    url = f"{lab.base_url}/echo/{secrets.token_hex(4)}"
    request = UpstreamRequest("GET", url, [("x-note", "a\r\nx-injected: 1")], b"", 2.0)

    with pytest.raises(UpstreamFailed):
        await upstream.fetch(request)
