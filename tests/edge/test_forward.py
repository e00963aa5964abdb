"""What the forward step sends the origin, decided without any I/O: the client's headers minus
what only the edge may say, plus the edge's own signed statement."""

from __future__ import annotations

from edge.config import EdgeConfig
from edge.context import RequestContext
from edge.forward import Forwarder, client_response
from edge.http import EdgeRequest, Headers
from edge.ports import UpstreamResponse
from edge.request_checks import parse_target
from edge.runtime.system import SystemRandom
from edge.timing import StepTimer
from shared.assertion import verify_assertion
from shared.routes import Auth, RouteRule
from shared.trace_context import RequestIdentity, TraceParent
from tests.edge.support.clocks import SteppedClock

CONFIG = EdgeConfig.from_env({"ORIGIN_URL": "http://origin.test", "EDGE_MODE": "local"})


def context(route_auth: Auth, *headers: tuple[str, str]) -> RequestContext:
    request = EdgeRequest("GET", "/x?a=1", Headers(headers))
    identity = RequestIdentity("req-1", TraceParent("1" * 32, "2" * 16))
    route = RouteRule(prefix="/", methods=None, auth=route_auth)
    return RequestContext(request, parse_target("/x?a=1"), identity, StepTimer(float), route)


def sent(ctx: RequestContext, *, for_cache: bool = False) -> dict[str, str]:
    forwarder = Forwarder(CONFIG, upstream=None, clock=SteppedClock(), random=SystemRandom())  # type: ignore[arg-type]
    headers = forwarder.upstream_headers(ctx, method="GET", target="/x?a=1", for_cache=for_cache)
    return dict(headers)


def test_headers_named_by_connection_are_hop_by_hop_and_dropped() -> None:
    headers = sent(
        context(Auth.OPTIONAL, ("connection", "keep-alive, X-Secret-Hop"), ("x-secret-hop", "1"))
    )

    assert "x-secret-hop" not in headers
    assert "connection" not in headers


def test_every_edge_prefixed_header_from_the_client_is_dropped() -> None:
    headers = sent(context(Auth.OPTIONAL, ("x-outpost-anything", "1"), ("x-outpost-subject", "a")))

    assert [name for name in headers if name.startswith("x-outpost-")] == ["x-outpost-assertion"]


def test_authorization_reaches_the_origin_except_on_public_routes() -> None:
    bearer = ("authorization", "Bearer t")

    assert sent(context(Auth.OPTIONAL, bearer))["authorization"] == "Bearer t"
    assert "authorization" not in sent(context(Auth.PUBLIC, bearer))


def test_cache_fetches_drop_the_clients_conditionals_and_ranges_always_go() -> None:
    conditional = (("if-none-match", '"a"'), ("if-modified-since", "x"), ("range", "bytes=0-1"))

    assert not {"if-none-match", "if-modified-since", "range"} & set(
        sent(context(Auth.OPTIONAL, *conditional), for_cache=True)
    )
    assert "if-none-match" in sent(context(Auth.OPTIONAL, *conditional))
    assert "range" not in sent(context(Auth.OPTIONAL, *conditional))


def test_the_edge_adds_its_request_id_trace_and_a_verifiable_assertion() -> None:
    headers = sent(context(Auth.OPTIONAL, ("x-request-id", "forged"), ("traceparent", "bad")))

    assert headers["x-request-id"] == "req-1"
    assert headers["traceparent"] == f"00-{'1' * 32}-{'2' * 16}-00"
    assert headers["accept-encoding"] == "identity"
    assertion = verify_assertion(
        headers["x-outpost-assertion"],
        secrets={"dev": CONFIG.assertion_secret},
        method="GET",
        path="/x?a=1",
        now=SteppedClock().now(),
    )
    assert (assertion.subject, assertion.country) == (None, None)


def test_the_client_sees_neither_hop_by_hop_nor_edge_origin_protocol_headers() -> None:
    upstream = UpstreamResponse(
        200,
        [
            ("connection", "x-internal"),
            ("x-internal", "1"),
            ("purge-tags", "products"),
            ("cache-tag", "products"),
            ("content-length", "2"),
            ("x-cache", "HIT"),
            ("etag", '"e"'),
        ],
        b"ok",
    )

    assert client_response(upstream).headers == [("etag", '"e"')]
