"""The origin refuses a request head it must not act on, through the whole app: a singleton
header sent twice is a 400, two Authorization headers the edge's own 401, too many or too large
headers a 431, each with the JSON error body."""

from __future__ import annotations

import json

import httpx
import pytest

from origin.middleware.request_head import MAX_HEADER_BYTES, MAX_HEADER_COUNT, head_refusal
from shared.assertion import ASSERTION_HEADER
from tests.origin.conftest import Caller

pytestmark = pytest.mark.anyio

REGISTRATION = b'{"email": "ada@example.com", "password": "correct horse battery staple"}'


@pytest.mark.parametrize(
    ("method", "path", "name", "values"),
    [
        ("GET", "/auth/me", ASSERTION_HEADER, ("v1.a.b.c", "v1.d.e.f")),
        ("POST", "/auth/register", "Content-Type", ("application/json", "text/plain")),
        ("POST", "/api/orders", "Idempotency-Key", ("first", "second")),  # template:demo
    ],
)
async def test_a_singleton_header_sent_twice_is_a_json_400(
    client: httpx.AsyncClient,
    caller: Caller,
    method: str,
    path: str,
    name: str,
    values: tuple[str, str],
) -> None:
    caller.becomes("bob", "customer")
    headers = [(name, value) for value in values]
    if name != "Content-Type":
        headers.append(("Content-Type", "application/json"))

    response = await client.request(method, path, headers=headers, content=REGISTRATION)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate_header"
    assert response.json()["error"]["header"] == name.lower()
    assert response.headers["connection"] == "close"
    assert response.headers["x-request-id"]  # refused inside the request context


@pytest.mark.parametrize("values", [("Bearer one", "Bearer two"), ("Bearer same", "Bearer same")])
async def test_two_authorization_headers_are_the_edges_invalid_request(
    client: httpx.AsyncClient, caller: Caller, values: tuple[str, str]
) -> None:
    caller.becomes("bob", "customer")

    response = await client.get("/auth/me", headers=[("Authorization", v) for v in values])

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_request"
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "headers",
    [
        [(f"X-Many-{n}", "v") for n in range(MAX_HEADER_COUNT + 1)],
        [("X-Large", "a" * MAX_HEADER_BYTES)],
    ],
    ids=["too many", "too large"],
)
async def test_too_many_or_too_large_headers_are_a_json_431(
    client: httpx.AsyncClient, headers: list[tuple[str, str]]
) -> None:
    # What the edge passes on (up to 100 fields; list headers such as Accept repeated) is not.
    passed_on = [(f"X-Client-{n}", "v") for n in range(98)] + [("Accept", "a/b"), ("Accept", "c/d")]
    accepted = await client.get("/healthz", headers=passed_on)

    refused = await client.get("/healthz", headers=headers)

    assert accepted.status_code == 200
    assert refused.status_code == 431
    assert refused.json()["error"]["code"] == "headers_too_large"


def test_an_http11_request_without_host_is_refused_and_an_http10_one_is_not() -> None:
    # RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host;
    # HTTP/1.0 had no Host. (Clients always send one, so this is checked on the rule itself;
    # tests/origin/test_server_errors.py sends the bare request to every server.)
    refused = head_refusal([(b"accept", b"*/*")], "1.1")

    assert refused is not None
    assert refused.status_code == 400
    assert json.loads(bytes(refused.body))["error"]["code"] == "missing_host"
    assert head_refusal([(b"accept", b"*/*")], "1.0") is None
    assert head_refusal([(b"host", b"origin")], "1.1") is None
