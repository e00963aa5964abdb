"""Each demo error declares the HTTP status it answers with; the handler answers with it."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request

from origin.demo.errors import (
    Conflict,
    DemoError,
    DuplicateSku,
    IdempotencyKeyReused,
    InvalidCursor,
    InvalidIdempotencyKey,
    OrderNotFound,
    OutOfStock,
    ProductInUse,
    ProductNotFound,
    VersionMismatch,
)
from origin.demo.routes import demo_error_response

ERRORS: list[tuple[DemoError, int]] = [
    (ProductNotFound(7), 404),
    (OrderNotFound(7), 404),
    (Conflict("no"), 409),
    (DuplicateSku("SKU-1"), 409),
    (ProductInUse(7), 409),
    (OutOfStock(7, requested=3, available=1), 409),
    (VersionMismatch(7, expected=1, current=2), 412),
    (IdempotencyKeyReused("k"), 422),
    (InvalidIdempotencyKey("too long"), 400),
    (InvalidCursor(), 400),
    (DemoError("anything else"), 400),
]


@pytest.mark.parametrize(
    ("error", "status"), ERRORS, ids=[type(error).__name__ for error, _ in ERRORS]
)
def test_an_error_is_answered_with_the_status_its_class_declares(
    error: DemoError, status: int
) -> None:
    response = demo_error_response(Request({"type": "http"}), error)

    assert type(error).status == status
    assert response.status_code == status
    body = json.loads(bytes(response.body))
    assert body["error"]["code"] == error.code
    assert body["error"]["message"] == str(error)


def test_the_facts_a_client_needs_are_in_the_body() -> None:
    response = demo_error_response(
        Request({"type": "http"}), OutOfStock(7, requested=3, available=1)
    )

    error = json.loads(bytes(response.body))["error"]
    assert (error["product_id"], error["requested"], error["available"]) == (7, 3, 1)
