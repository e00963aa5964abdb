# template:demo-only
"""The README's order request, as a new user copies it, through the edge in front of the real
origin: what the README says of its body, ``Idempotency-Key``, country and the origin is true."""

from __future__ import annotations

import re
import secrets
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.edge.behaviour.conftest import EdgeUnderTest
from tests.edge.support.origin_server import RunningOrigin
from tests.edge.support.tokens import mint

README = Path(__file__).resolve().parents[3] / "README.md"
TOKEN_COMMAND = re.compile(r"\$\(\.venv/bin/\S+ token --sub (?P<subject>[\w-]+)\)")


@dataclass
class DocumentedRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def documented_order() -> DocumentedRequest:
    """The ``curl`` command of the README's "Placing an order", parsed as curl reads it."""
    section = README.read_text(encoding="utf-8").split("### Placing an order", 1)[1]
    command = section.split("```sh\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    words = iter(shlex.split(command))
    assert next(words) == "curl"
    request = DocumentedRequest("GET", "")
    for word in words:
        if word == "-H":
            name, _, value = next(words).partition(":")
            request.headers[name.strip()] = value.strip()
        elif word == "-d":
            request.method, request.body = "POST", next(words)
        elif word.startswith("http://"):
            request.path = httpx.URL(word).path
        else:
            assert word == "-i", f"an option the test does not read: {word}"
    return request


def sent(client: httpx.Client, request: DocumentedRequest, **headers: str) -> httpx.Response:
    merged = {**request.headers, **headers}
    return client.request(request.method, request.path, headers=merged, content=request.body)


def with_a_token(request: DocumentedRequest) -> DocumentedRequest:
    """The token the README mints with the app's command, minted for the test's issuer instead;
    the subject is made unique, since the origin is shared by the whole session."""
    authorization = request.headers["Authorization"]
    subject = TOKEN_COMMAND.search(authorization)
    assert subject is not None, authorization
    token = mint(f"{subject['subject']}-{secrets.token_hex(4)}")
    headers = {**request.headers, "Authorization": TOKEN_COMMAND.sub(token, authorization)}
    return DocumentedRequest(request.method, request.path, headers, request.body)


def test_the_readme_order_is_placed_once_however_often_it_is_sent(
    origin_edge: EdgeUnderTest,
) -> None:
    request = with_a_token(documented_order())
    assert {"Idempotency-Key", "CF-IPCountry", "Content-Type"} <= set(request.headers)

    placed = sent(origin_edge.client, request)
    again = sent(origin_edge.client, request)

    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert {"id", "status", "total_cents"} <= set(order)
    assert placed.headers["location"] == f"/api/orders/{order['id']}"
    assert (again.status_code, again.json()["id"]) == (201, order["id"])


def test_the_same_key_with_another_body_is_refused(origin_edge: EdgeUnderTest) -> None:
    request = with_a_token(documented_order())
    assert sent(origin_edge.client, request).status_code == 201
    request.body = request.body.replace('"quantity": 2', '"quantity": 3')
    refused = sent(origin_edge.client, request)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "idempotency_key_reused"


def test_without_the_country_header_the_local_edge_refuses_the_order(
    origin_edge: EdgeUnderTest,
) -> None:
    request = with_a_token(documented_order())
    del request.headers["CF-IPCountry"]
    assert sent(origin_edge.client, request).status_code == 451


def test_the_same_request_straight_to_the_origin_is_refused_as_the_readme_says(
    origin: RunningOrigin,
) -> None:
    request = with_a_token(documented_order())
    with httpx.Client(base_url=origin.base_url, timeout=30.0) as client:
        refused = sent(client, request)
    assert refused.status_code == 451, refused.text
    error = refused.json()["error"]
    assert error["code"] == "unavailable_for_legal_reasons"
    assert error["rule"] == "orders-unknown-location"
