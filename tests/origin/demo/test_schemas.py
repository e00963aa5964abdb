"""Input schemas refuse what the database could not hold or the client did not mean."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from origin.demo.schemas import (
    MAX_LINE_QUANTITY,
    MAX_ORDER_LINES,
    OrderCreate,
    ProductCreate,
    ProductQuery,
    ProductUpdate,
)

VALID_PRODUCT: dict[str, Any] = {
    "sku": "MUG-350",
    "name": "Mug",
    "category": "accessories",
    "price_cents": 1800,
    "stock": 5,
}


def _error_locations(error: ValidationError) -> set[str]:
    return {".".join(str(part) for part in detail["loc"]) for detail in error.errors()}


def test_a_valid_product_is_accepted_with_an_empty_description_by_default() -> None:
    product = ProductCreate.model_validate(VALID_PRODUCT)

    assert product.description == ""
    assert product.model_dump()["price_cents"] == 1800


def test_a_product_json_document_is_accepted() -> None:
    body = '{"sku": "A-1", "name": " Cup ", "category": "cups", "price_cents": 0, "stock": 0}'

    product = ProductCreate.model_validate_json(body)

    assert (product.name, product.price_cents) == ("Cup", 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price_cents", -1),
        ("price_cents", 100_000_001),
        ("price_cents", "1800"),  # strings are not numbers
        ("price_cents", 18.5),
        ("price_cents", True),
        ("stock", -1),
        ("stock", 1_000_000_001),
        ("sku", ""),
        ("sku", "has space"),
        ("sku", "X" * 65),
        ("name", ""),
        ("name", "   "),
        ("name", "n" * 201),
        ("category", "Kitchen"),  # categories are lower-case slugs
        ("category", "c" * 65),
    ],
)
def test_out_of_range_or_wrongly_typed_product_fields_are_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        ProductCreate.model_validate({**VALID_PRODUCT, field: value})

    assert _error_locations(raised.value) == {field}


def test_unknown_product_fields_are_refused_rather_than_ignored() -> None:
    with pytest.raises(ValidationError) as raised:
        ProductCreate.model_validate({**VALID_PRODUCT, "prise_cents": 100})

    assert _error_locations(raised.value) == {"prise_cents"}


def test_a_partial_update_reports_only_the_fields_sent() -> None:
    update = ProductUpdate.model_validate({"price_cents": 990, "stock": 0})

    assert update.changes() == {"price_cents": 990, "stock": 0}
    assert ProductUpdate.model_validate({}).changes() == {}


def test_an_update_may_not_null_a_field() -> None:
    with pytest.raises(ValidationError, match="name: null is not allowed"):
        ProductUpdate.model_validate({"name": None})


def test_an_update_checks_the_same_bounds_as_creation() -> None:
    with pytest.raises(ValidationError) as raised:
        ProductUpdate.model_validate({"stock": -5, "version": 3})

    assert _error_locations(raised.value) == {"stock", "version"}


def test_an_order_needs_between_one_and_fifty_lines() -> None:
    line = {"product_id": 1, "quantity": 1}
    with pytest.raises(ValidationError):
        OrderCreate.model_validate({"items": []})
    with pytest.raises(ValidationError):
        OrderCreate.model_validate(
            {"items": [{"product_id": n, "quantity": 1} for n in range(1, MAX_ORDER_LINES + 2)]}
        )

    assert len(OrderCreate.model_validate({"items": [line]}).items) == 1


@pytest.mark.parametrize(
    "line",
    [
        {"product_id": 1, "quantity": 0},
        {"product_id": 1, "quantity": MAX_LINE_QUANTITY + 1},
        {"product_id": 0, "quantity": 1},
        {"product_id": 2**31, "quantity": 1},
        {"product_id": "1", "quantity": 1},
        {"product_id": 1, "quantity": 1, "price_cents": 1},
    ],
)
def test_order_lines_outside_the_limits_are_refused(line: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OrderCreate.model_validate({"items": [line]})


def test_an_order_may_name_each_product_once() -> None:
    lines = [{"product_id": 7, "quantity": 1}, {"product_id": 7, "quantity": 2}]

    with pytest.raises(ValidationError, match=r"products \[7\] appear on more than one line"):
        OrderCreate.model_validate({"items": lines})


def test_list_filters_are_parsed_from_query_string_text() -> None:
    query = ProductQuery.model_validate(
        {"category": "tea", "min_price_cents": "100", "in_stock": "true", "limit": "5"}
    )

    assert (query.min_price_cents, query.in_stock, query.limit) == (100, True, 5)
    assert ProductQuery.model_validate({}).limit == 20


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"min_price_cents": "500", "max_price_cents": "100"},
        {"in_stock": "maybe"},
        {"sort": "name"},
        {"q": "x" * 101},
    ],
)
def test_bad_list_filters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ProductQuery.model_validate(params)
