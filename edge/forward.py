"""The forward step: send the request to the origin with what the edge established, signed.

The client's own claims about identity, geography or the edge's work never reach the origin:
``X-Outpost-*``, ``X-Cache``, ``CF-IPCountry``, ``Forwarded``/``X-Forwarded-*`` and the usual
identity headers are dropped, as are hop-by-hop headers (and those ``Connection`` names). What
the edge knows travels in the HMAC-signed assertion instead, with the request id and trace.
"""

from __future__ import annotations

from collections.abc import Iterable

from edge.answers import error_response
from edge.config import EdgeConfig
from edge.context import RequestContext
from edge.http import EdgeResponse
from edge.ports import (
    Clock,
    Randomness,
    Upstream,
    UpstreamFailed,
    UpstreamRequest,
    UpstreamResponse,
    UpstreamTimeout,
)
from shared.assertion import ASSERTION_HEADER, sign_assertion, valid_address

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    }
)
# Set by the edge itself, or claims only the edge may make.
_NEVER_FROM_CLIENT = HOP_BY_HOP | {
    "host",
    "content-length",
    "accept-encoding",
    "x-cache",
    ASSERTION_HEADER.lower(),
    "x-request-id",
    "traceparent",
    "cf-ipcountry",
    "cf-connecting-ip",
    "true-client-ip",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "x-user",
    "x-user-id",
    "x-user-roles",
    "x-roles",
    "x-remote-user",
    "remote-user",
    "x-forwarded-user",
    "x-auth-user",
    "x-authenticated-user",
    "x-principal",
    "x-country",
    "x-client-country",
    # The edge serves whole representations (RFC 9110 §14.2 lets it ignore Range).
    "range",
    "if-range",
}
_EDGE_PREFIX = "x-outpost-"
# Conditionals the cache evaluates itself: the origin must answer in full so the copy is whole.
CACHE_CONDITIONALS = frozenset(
    {"if-none-match", "if-modified-since", "if-match", "if-unmodified-since"}
)
# Never shown to clients: framing the client's server recomputes, and edge-origin protocol.
_NOT_RETURNED = HOP_BY_HOP | {"content-length", "x-cache", "purge-tags", "cache-tag"}


class Forwarder:
    def __init__(
        self, config: EdgeConfig, upstream: Upstream, clock: Clock, random: Randomness
    ) -> None:
        self._config = config
        self._upstream = upstream
        self._clock = clock
        self._random = random

    async def fetch(
        self,
        context: RequestContext,
        *,
        method: str,
        target: str,
        for_cache: bool = False,
        extra_headers: Iterable[tuple[str, str]] = (),
    ) -> UpstreamResponse:
        """Send to the origin; raises :class:`UpstreamTimeout` or :class:`UpstreamFailed`."""
        headers = self.upstream_headers(context, method=method, target=target, for_cache=for_cache)
        headers.extend(extra_headers)
        request = UpstreamRequest(
            method=method,
            url=self._config.origin_url + target,
            headers=headers,
            body=context.request.body,
            timeout_seconds=self._config.origin_timeout_seconds,
        )
        started = context.timer.now()
        try:
            return await self._upstream.fetch(request)
        finally:
            context.timer.record("edge-origin", started)

    def upstream_headers(
        self, context: RequestContext, *, method: str, target: str, for_cache: bool
    ) -> list[tuple[str, str]]:
        request_headers = context.request.headers
        dropped = set(_NEVER_FROM_CLIENT)
        dropped.update(_connection_tokens(request_headers.get_all("connection")))
        if for_cache:
            dropped.update(CACHE_CONDITIONALS)
        if not context.forwards_authorization:
            dropped.add("authorization")
        headers = [
            (name, value)
            for name, value in request_headers.items
            if name not in dropped and not name.startswith(_EDGE_PREFIX)
        ]
        identity = context.identity
        headers += [
            ("accept-encoding", request_headers.get("accept-encoding") or "identity"),
            ("x-request-id", identity.request_id),
            ("traceparent", identity.trace.header()),
            (ASSERTION_HEADER.lower(), self._assertion(context, method, target)),
        ]
        return headers

    def _assertion(self, context: RequestContext, method: str, target: str) -> str:
        token = context.token
        location = context.location
        return sign_assertion(
            secret=self._config.assertion_secret,
            key_id=self._config.assertion_key_id,
            method=method,
            path=target,
            subject=token.subject if token else None,
            roles=token.roles if token else (),
            country=location.country if location else None,
            issued_at=int(self._clock.now()),
            nonce=self._random.token(16),
            client=valid_address(context.request.client),
            session_id=token.session_id if token else None,
        )


def client_response(upstream: UpstreamResponse) -> EdgeResponse:
    """The origin's response as the client gets it (minus hop-by-hop and edge-only headers)."""
    dropped = _NOT_RETURNED | set(_connection_tokens(_values(upstream.headers, "connection")))
    headers = [(name, value) for name, value in upstream.headers if name not in dropped]
    return EdgeResponse(upstream.status, headers, upstream.body)


def upstream_failure(error: UpstreamTimeout | UpstreamFailed) -> EdgeResponse:
    if isinstance(error, UpstreamTimeout):
        return error_response(504, "gateway_timeout", "the origin did not answer in time")
    return error_response(502, "bad_gateway", "the origin could not be reached or answered badly")


def _connection_tokens(values: Iterable[str]) -> list[str]:
    return [token.strip().lower() for value in values for token in value.split(",")]


def _values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key == name]
