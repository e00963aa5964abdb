"""The demo's routes refuse every hostile value (tests/data/hostile) with a 4xx JSON error, on
SQLite and PostgreSQL: search words, product fields, quantities, cursors and path ids all reach
the database, which refused a NUL or an id past INTEGER with a 500 (PostgreSQL) or read a NUL
search as the empty string and matched every product (SQLite)."""

from __future__ import annotations

import httpx
import pytest

from origin.demo.pagination import encode_cursor
from origin.fields import DB_ID_MAX
from tests.origin.conftest import Caller
from tests.origin.hostile import Slot, Who, become, nesting_problems, slot_problems

pytestmark = pytest.mark.anyio

PRODUCT = {
    "sku": "HOSTILE-1",
    "name": "A product",
    "description": "",
    "category": "tea",
    "price_cents": 100,
    "stock": 1,
}
ORDER = {"items": [{"product_id": 1, "quantity": 1}]}

SLOTS = [
    *(
        Slot("GET", "/api/products", "query", name, "text")
        for name in ("q", "category", "cursor", "in_stock")
    ),
    *(
        Slot("GET", "/api/products", "query", name, "number")
        for name in ("limit", "min_price_cents", "max_price_cents")
    ),
    Slot("GET", "/api/products/{value}", "path", "product_id", "number"),
    Slot("DELETE", "/api/products/{value}", "path", "product_id", "number", who="admin"),
    *(
        Slot("POST", "/api/products", "json", name, "text", PRODUCT, "admin")
        for name in ("sku", "name", "description", "category")
    ),
    *(
        Slot("POST", "/api/products", "json", name, "number", PRODUCT, "admin")
        for name in ("price_cents", "stock")
    ),
    *(
        Slot("PATCH", "/api/products/1", "json", name, "text", who="admin")
        for name in ("name", "description")
    ),
    Slot("PATCH", "/api/products/1", "json", "stock", "number", who="admin"),
    *(
        Slot("POST", "/api/orders", "json", name, "number", ORDER, "customer")
        for name in ("items.0.product_id", "items.0.quantity")
    ),
    Slot("GET", "/api/orders", "query", "cursor", "text", who="customer"),
    Slot("GET", "/api/orders", "query", "limit", "number", who="customer"),
    Slot("GET", "/api/orders/{value}", "path", "order_id", "number", who="customer"),
]
JSON_BODY_ROUTES: list[tuple[str, str, Who]] = [
    ("POST", "/api/products", "admin"),
    ("PATCH", "/api/products/1", "admin"),
    ("POST", "/api/orders", "customer"),
]


@pytest.mark.parametrize("slot", SLOTS, ids=str)
async def test_every_hostile_value_is_refused_with_a_json_4xx(
    unthrottled_client: httpx.AsyncClient, caller: Caller, slot: Slot
) -> None:
    problems = await slot_problems(unthrottled_client, caller, slot)

    assert not problems, f"{slot} on hostile input:\n" + "\n".join(problems)


@pytest.mark.parametrize(("method", "path", "who"), JSON_BODY_ROUTES)
async def test_deeply_nested_json_is_a_400(
    unthrottled_client: httpx.AsyncClient, caller: Caller, method: str, path: str, who: Who
) -> None:
    become(caller, who)

    problems = await nesting_problems(unthrottled_client, method, path)

    assert not problems, f"{method} {path}:\n" + "\n".join(problems)


async def test_a_nul_search_is_refused_rather_than_matching_every_product(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/products?q=%00")

    assert response.status_code == 422
    [problem] = response.json()["error"]["fields"]
    assert problem["field"] == "q"
    assert problem["message"] == "control characters are not allowed here"


@pytest.mark.parametrize("path", ["/api/products", "/api/orders"])
async def test_a_well_formed_cursor_past_the_id_column_is_refused_as_forged(
    client: httpx.AsyncClient, caller: Caller, path: str
) -> None:
    caller.becomes("bob", "customer")

    response = await client.get(path, params={"cursor": encode_cursor(DB_ID_MAX + 1)})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"
