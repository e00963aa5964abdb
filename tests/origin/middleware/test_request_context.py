"""The request-context middleware: ids, trace context, Server-Timing, access log, last defence."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, Router
from starlette.types import Receive, Scope, Send

from origin.errors import EXCEPTION_HANDLERS
from origin.middleware import CompletedRequest, RequestContextMiddleware, server_timing, timed
from shared.trace_context import TraceParent
from tests.origin.middleware.apps import capture_json_logs, client_for, origin_like_app
from tests.origin.middleware.hypercorn_server import hypercorn_serving

pytestmark = pytest.mark.anyio

HEX32 = re.compile(r"[0-9a-f]{32}")
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING_PARENT = "00f067aa0ba902b7"


async def echo_context(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "request_id": request.state.request_id,
            "traceparent": request.state.traceparent,
        }
    )


async def item(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(request.path_params["item_id"]))


async def crash(request: Request) -> Response:
    raise RuntimeError("secret internal detail")


def recording_app() -> tuple[list[CompletedRequest], Starlette]:
    completed: list[CompletedRequest] = []
    app = origin_like_app(
        [
            Route("/context", echo_context),
            Route("/items/{item_id:int}", item),
            Mount("/api", routes=[Mount("/v1", routes=[Route("/products/{id}", item_by_id)])]),
        ],
        observers=[completed.append],
    )
    return completed, app


async def item_by_id(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.path_params["id"])


async def test_a_request_without_ids_gets_a_new_request_id_in_state_and_response() -> None:
    app = origin_like_app([Route("/context", echo_context)])
    async with client_for(app) as client:
        response = await client.get("/context")

    request_id = response.headers["x-request-id"]
    assert HEX32.fullmatch(request_id)
    assert response.json()["request_id"] == request_id


async def test_each_request_gets_a_different_generated_id() -> None:
    app = origin_like_app([Route("/context", echo_context)])
    async with client_for(app) as client:
        ids = {(await client.get("/context")).headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


async def test_a_safe_client_request_id_is_kept() -> None:
    app = origin_like_app([Route("/context", echo_context)])
    async with client_for(app) as client:
        response = await client.get("/context", headers={"X-Request-ID": "edge-7f3a:01.b_c"})

    assert response.headers["x-request-id"] == "edge-7f3a:01.b_c"
    assert response.json()["request_id"] == "edge-7f3a:01.b_c"


@pytest.mark.parametrize(
    "unsafe",
    ["has space", "<script>", 'quote"d', "x" * 129, "semi;colon", "é-accent"],
)
async def test_an_unsafe_client_request_id_is_replaced(unsafe: str) -> None:
    app = origin_like_app([Route("/context", echo_context)])
    async with client_for(app) as client:
        response = await client.get("/context", headers={b"x-request-id": unsafe.encode()})

    assert response.headers["x-request-id"] != unsafe
    assert HEX32.fullmatch(response.headers["x-request-id"])


async def test_a_valid_traceparent_keeps_its_trace_and_we_become_a_new_span() -> None:
    app = origin_like_app([Route("/context", echo_context)])
    incoming = f"00-{INCOMING_TRACE}-{INCOMING_PARENT}-01"
    async with client_for(app) as client:
        response = await client.get("/context", headers={"traceparent": incoming})

    match = TRACEPARENT.fullmatch(response.headers["traceparent"])
    assert match is not None
    trace_id, span_id, flags = match.groups()
    assert (trace_id, flags) == (INCOMING_TRACE, "01")
    assert span_id != INCOMING_PARENT
    # Without an X-Request-ID the trace id is the request id, so logs join the caller's trace.
    assert response.headers["x-request-id"] == INCOMING_TRACE
    assert response.json()["traceparent"] == response.headers["traceparent"]


async def test_an_explicit_request_id_wins_over_the_trace_id() -> None:
    app = origin_like_app([Route("/context", echo_context)])
    headers = {"traceparent": f"00-{INCOMING_TRACE}-{INCOMING_PARENT}-01", "X-Request-ID": "abc"}
    async with client_for(app) as client:
        response = await client.get("/context", headers=headers)

    assert response.headers["x-request-id"] == "abc"
    assert response.headers["traceparent"].startswith(f"00-{INCOMING_TRACE}-")


@pytest.mark.parametrize("client_request_id", [None, "abc"])
async def test_a_span_a_tracer_opened_is_the_one_headers_and_state_name(
    client_request_id: str | None,
) -> None:
    traced = TraceParent("a" * 32, "b" * 16, "01")
    app = Starlette(
        routes=[Route("/context", echo_context)],
        middleware=[Middleware(RequestContextMiddleware, current_trace=lambda: traced)],
    )
    headers = {"traceparent": f"00-{INCOMING_TRACE}-{INCOMING_PARENT}-01"}
    if client_request_id is not None:
        headers["X-Request-ID"] = client_request_id
    async with client_for(app) as client:
        response = await client.get("/context", headers=headers)

    assert response.headers["traceparent"] == traced.header()
    assert response.json()["traceparent"] == traced.header()
    assert response.headers["x-request-id"] == (client_request_id or traced.trace_id)


@pytest.mark.parametrize(
    "invalid",
    [
        f"00-{INCOMING_TRACE.upper()}-{INCOMING_PARENT}-01",
        f"00-{'0' * 32}-{INCOMING_PARENT}-01",
        f"00-{INCOMING_TRACE}-{'0' * 16}-01",
        f"ff-{INCOMING_TRACE}-{INCOMING_PARENT}-01",
        f"00-{INCOMING_TRACE}-{INCOMING_PARENT}-01-extra",
        f"00-{INCOMING_TRACE[:-1]}-{INCOMING_PARENT}-01",
        "garbage",
    ],
)
async def test_an_invalid_traceparent_is_ignored_and_a_new_trace_starts(invalid: str) -> None:
    app = origin_like_app([Route("/context", echo_context)])
    async with client_for(app) as client:
        response = await client.get("/context", headers={"traceparent": invalid})

    match = TRACEPARENT.fullmatch(response.headers["traceparent"])
    assert match is not None
    assert match.group(1) != INCOMING_TRACE.lower()
    assert match.group(3) == "00"
    assert response.headers["x-request-id"] == match.group(1)


async def test_every_response_has_a_server_timing_total_even_a_404() -> None:
    app = origin_like_app([Route("/context", echo_context)])
    async with client_for(app) as client:
        found = await client.get("/context")
        missing = await client.get("/nowhere")

    for response in (found, missing):
        assert re.fullmatch(r"app;dur=\d+\.\d\d", response.headers["server-timing"])
    assert missing.status_code == 404


async def test_timings_added_by_a_handler_follow_the_total() -> None:
    async def timed_work(request: Request) -> PlainTextResponse:
        with timed(request.scope, "db", "primary"):
            await asyncio.sleep(0.01)
        server_timing(request.scope).add("cache", 0.25)
        return PlainTextResponse("ok")

    app = origin_like_app([Route("/work", timed_work)])
    async with client_for(app) as client:
        response = await client.get("/work")

    total, db, cache = response.headers["server-timing"].split(", ")
    total_ms = float(total.removeprefix("app;dur="))
    db_name, db_dur, db_desc = db.split(";")
    assert (db_name, db_desc) == ("db", 'desc="primary"')
    assert 10.0 <= float(db_dur.removeprefix("dur=")) <= total_ms
    assert cache == "cache;dur=0.25"


async def test_completed_requests_report_the_route_template_not_the_raw_path() -> None:
    completed, app = recording_app()
    async with client_for(app) as client:
        await client.get("/items/1")
        await client.get("/items/2", headers={"X-Request-ID": "second"})
        await client.post("/items/3")
        await client.get("/items/not-a-number")

    assert [(c.method, c.route, c.status) for c in completed] == [
        ("GET", "/items/{item_id}", 200),
        ("GET", "/items/{item_id}", 200),
        ("POST", "/items/{item_id}", 405),
        ("GET", None, 404),
    ]
    assert completed[1].request_id == "second"
    assert completed[3].route_label == "unmatched"
    assert completed[3].path == "/items/not-a-number"
    assert all(c.client == "127.0.0.1" and c.duration_seconds > 0 for c in completed)


async def test_routes_inside_mounts_report_the_full_template() -> None:
    completed, app = recording_app()
    async with client_for(app) as client:
        response = await client.get("/api/v1/products/42")

    assert response.text == "42"
    assert completed[0].route == "/api/v1/products/{id}"


async def test_one_json_access_log_line_per_request() -> None:
    _, app = recording_app()
    with capture_json_logs("outpost.access") as logs:
        async with client_for(app) as client:
            await client.get("/items/7", headers={"X-Request-ID": "req-1"})
            await client.get("/missing/path")

    first, second = logs.lines()
    assert first["logger"] == "outpost.access"
    assert first["level"] == "INFO"
    assert first["message"] == "GET /items/{item_id} 200"
    assert (first["method"], first["route"], first["status"]) == ("GET", "/items/{item_id}", 200)
    assert first["request_id"] == "req-1"
    assert first["client"] == "127.0.0.1"
    assert isinstance(first["duration_ms"], float)
    assert first["duration_ms"] > 0
    # Without a matching route, the log (not the metrics) shows the raw path.
    assert (second["route"], second["status"]) == ("/missing/path", 404)


async def test_logs_written_while_handling_a_request_carry_its_request_id() -> None:
    import logging

    async def chatty(request: Request) -> PlainTextResponse:
        logging.getLogger("outpost.orders").info("order placed", extra={"order_id": 12})
        return PlainTextResponse("ok")

    app = origin_like_app([Route("/chatty", chatty)])
    with capture_json_logs("outpost.orders") as logs:
        async with client_for(app) as client:
            await client.get("/chatty", headers={"X-Request-ID": "chatty-1"})

    (line,) = logs.lines()
    assert (line["message"], line["order_id"], line["request_id"]) == (
        "order placed",
        12,
        "chatty-1",
    )


async def test_an_unhandled_exception_becomes_a_json_500_with_the_request_id() -> None:
    app = origin_like_app([Route("/crash", crash)])
    with capture_json_logs("outpost.origin") as logs:
        async with client_for(app) as client:
            response = await client.get("/crash", headers={"X-Request-ID": "boom-1"})

    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "internal_error",
            "message": "the server failed to handle this request",
            "request_id": "boom-1",
        }
    }
    assert "secret internal detail" not in response.text
    assert response.headers["x-request-id"] == "boom-1"
    assert "server-timing" in response.headers
    (line,) = logs.lines()
    assert line["request_id"] == "boom-1"
    assert line["level"] == "ERROR"
    assert "RuntimeError: secret internal detail" in line["exception"]
    assert "Traceback" in line["exception"]


async def test_an_exception_from_a_bare_asgi_app_is_answered_too() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("broken app")

    with capture_json_logs("outpost.origin") as logs:
        async with client_for(RequestContextMiddleware(broken, access_log=False)) as client:
            response = await client.get("/anything")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]
    (line,) = logs.lines()
    assert "ValueError: broken app" in line["exception"]


async def test_an_error_already_answered_by_the_app_is_not_logged_twice() -> None:
    # The middleware outside Starlette: its ServerErrorMiddleware answers (and logs) the error
    # with handle_unexpected, then re-raises it.
    inner = Starlette(routes=[Route("/crash", crash)], exception_handlers=EXCEPTION_HANDLERS)
    app = RequestContextMiddleware(inner, access_log=False)
    with capture_json_logs("outpost.origin") as logs:
        async with client_for(app) as client:
            response = await client.get("/crash", headers={"X-Request-ID": "once"})

    assert response.status_code == 500
    assert response.json()["error"]["request_id"] == "once"
    assert [line["request_id"] for line in logs.lines()] == ["once"]


async def test_an_app_that_returns_without_answering_gets_a_json_500() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with capture_json_logs("outpost.origin") as logs:
        async with client_for(RequestContextMiddleware(silent, access_log=False)) as client:
            response = await client.get("/")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert logs.lines()[0]["message"] == "the app returned without a response"


async def test_a_failing_observer_does_not_fail_the_request() -> None:
    def broken_observer(request: CompletedRequest) -> None:
        raise RuntimeError("metrics backend down")

    app = origin_like_app([Route("/context", echo_context)], observers=[broken_observer])
    with capture_json_logs("outpost.origin") as logs:
        async with client_for(app) as client:
            response = await client.get("/context")

    assert response.status_code == 200
    assert "metrics backend down" in logs.lines()[0]["exception"]


async def test_non_http_scopes_pass_through_untouched() -> None:
    seen: list[Scope] = []

    async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await RequestContextMiddleware(lifespan_app)(scope, _never_receive, _never_send)
    assert seen == [{"type": "lifespan", "asgi": {"version": "3.0"}}]


async def _never_receive() -> dict[str, object]:
    raise AssertionError("not expected to receive")


async def _never_send(message: object) -> None:
    raise AssertionError("not expected to send")


async def test_streamed_responses_pass_through_chunk_by_chunk_on_a_real_server() -> None:
    release = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"first\n"
        await release.wait()
        yield b"second\n"

    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    completed: list[CompletedRequest] = []
    app = origin_like_app([Route("/stream", stream)], observers=[completed.append])
    async with (
        hypercorn_serving(app) as (host, port),
        httpx.AsyncClient() as client,
        client.stream("GET", f"http://{host}:{port}/stream") as response,
    ):
        parts = response.aiter_raw()
        # The first chunk arrives while the handler is still blocked: nothing buffers it.
        first = await asyncio.wait_for(anext(parts), timeout=5)
        release.set()
        rest = b"".join([chunk async for chunk in parts])

    assert first == b"first\n"
    assert rest == b"second\n"
    assert response.headers["x-request-id"]
    assert completed[0].status == 200


async def test_a_stream_that_fails_midway_is_cut_off_and_the_server_keeps_serving() -> None:
    async def failing_chunks() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("lost the database mid-stream")

    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(failing_chunks(), media_type="text/plain")

    app = origin_like_app([Route("/stream", stream), Route("/context", echo_context)])
    with capture_json_logs("outpost.origin") as logs:
        async with hypercorn_serving(app) as (host, port), httpx.AsyncClient() as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(f"http://{host}:{port}/stream", headers={"X-Request-ID": "mid"})
            after = await client.get(f"http://{host}:{port}/context")

    assert after.status_code == 200
    logged = [line for line in logs.lines() if line["request_id"] == "mid"]
    assert logged
    assert "lost the database mid-stream" in logged[0]["exception"]


async def test_routes_under_a_plain_router_report_their_template() -> None:
    completed: list[CompletedRequest] = []
    router = Router(routes=[Route("/things/{name}", item_by_name)])
    app = RequestContextMiddleware(router, access_log=False, observers=[completed.append])
    async with client_for(app) as client:
        response = await client.get("/things/kettle")

    assert response.text == "kettle"
    assert completed[0].route == "/things/{name}"


async def item_by_name(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.path_params["name"])


async def early_answer(scope: Scope, receive: Receive, send: Send) -> None:
    """Refuses without reading the body, as a 401, 429 or 451 does."""
    await JSONResponse({"error": {"code": "nope", "message": "no"}}, status_code=451)(
        scope, receive, send
    )


async def reads_then_answers(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await JSONResponse({"length": len(body)})(scope, receive, send)


@pytest.mark.anyio
async def test_an_answer_before_the_body_was_read_closes_the_connection_cleanly() -> None:
    app = RequestContextMiddleware(early_answer, access_log=False)
    async with (
        hypercorn_serving(app) as (host, port),
        httpx.AsyncClient(base_url=f"http://{host}:{port}") as client,
    ):
        responses = [await client.post("/", content=b"x" * 5000) for _ in range(3)]

    assert [r.status_code for r in responses] == [451, 451, 451]
    assert all(r.headers["connection"] == "close" for r in responses)


@pytest.mark.anyio
async def test_a_connection_whose_body_was_read_stays_open() -> None:
    app = RequestContextMiddleware(reads_then_answers, access_log=False)
    async with (
        hypercorn_serving(app) as (host, port),
        httpx.AsyncClient(base_url=f"http://{host}:{port}") as client,
    ):
        responses = [await client.post("/", content=b"x" * 5000) for _ in range(3)]

    assert [r.json() for r in responses] == [{"length": 5000}] * 3
    assert all("close" not in r.headers.get("connection", "") for r in responses)
