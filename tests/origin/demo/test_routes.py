"""The demo shop over HTTP: catalog caching, admin writes, idempotent private orders.

Every test runs against SQLite and PostgreSQL (the ``client`` fixture's database).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.origin.conftest import Caller

pytestmark = pytest.mark.anyio

ORDER = {"items": [{"product_id": 1, "quantity": 2}]}


def key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": name}


async def stock_of(client: httpx.AsyncClient, product_id: int) -> int:
    response = await client.get(f"/api/products/{product_id}")
    assert response.status_code == 200
    stock: int = response.json()["stock"]
    return stock


class TestCatalogReads:
    async def test_a_product_carries_what_a_shared_cache_needs(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/products/1")

        assert response.status_code == 200
        assert response.json()["id"] == 1
        cache_control = response.headers["cache-control"]
        assert cache_control.startswith("public")
        assert "s-maxage=60" in cache_control
        assert "stale-while-revalidate=" in cache_control
        assert "stale-if-error=" in cache_control
        assert response.headers["etag"].startswith('"')
        assert response.headers["cache-tag"] == "product:1"

    async def test_if_none_match_with_the_current_etag_answers_304_without_a_body(
        self, client: httpx.AsyncClient
    ) -> None:
        etag = (await client.get("/api/products/1")).headers["etag"]

        response = await client.get("/api/products/1", headers={"If-None-Match": etag})

        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag

    async def test_a_stale_etag_gets_the_full_product(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/products/1", headers={"If-None-Match": '"old"'})
        assert response.status_code == 200
        assert response.json()["id"] == 1

    async def test_the_second_read_comes_from_the_origin_cache(
        self, client: httpx.AsyncClient
    ) -> None:
        first = await client.get("/api/products/2")
        second = await client.get("/api/products/2")

        assert first.headers["x-origin-cache"] == "MISS"
        assert second.headers["x-origin-cache"] == "HIT"
        assert second.content == first.content
        assert second.headers["etag"] == first.headers["etag"]

    async def test_the_list_pages_with_a_cursor_until_the_end(
        self, client: httpx.AsyncClient
    ) -> None:
        seen: list[int] = []
        cursor: str | None = None
        while True:
            params = {"limit": "7", **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/api/products", params=params)).json()
            seen.extend(item["id"] for item in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert seen == sorted(seen)
        assert len(seen) == len(set(seen)) >= 30

    async def test_filters_narrow_the_list(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/api/products", params={"category": "coffee", "max_price_cents": "1500"}
        )

        items = response.json()["items"]
        assert items
        assert all(item["category"] == "coffee" for item in items)
        assert all(item["price_cents"] <= 1500 for item in items)
        assert response.headers["cache-tag"] == "products"

    async def test_query_parameter_order_does_not_split_the_cache(
        self, client: httpx.AsyncClient
    ) -> None:
        await client.get("/api/products?category=coffee&limit=5")
        again = await client.get("/api/products?limit=5&category=coffee")
        assert again.headers["x-origin-cache"] == "HIT"

    @pytest.mark.parametrize(
        "query",
        [
            "limit=0",
            "limit=1000",
            "limit=ten",
            "min_price_cents=-1",
            "colour=red",
            "min_price_cents=500&max_price_cents=100",
            "limit=5&limit=6",
            "cursor=forged",
        ],
    )
    async def test_bad_query_parameters_are_refused_with_what_is_wrong(
        self, client: httpx.AsyncClient, query: str
    ) -> None:
        response = await client.get(f"/api/products?{query}")

        assert response.status_code in (400, 422)
        assert response.json()["error"]["code"] in ("validation_failed", "invalid_cursor")

    @pytest.mark.parametrize("product_id", ["999999", "0", "99999999999999999999999"])
    async def test_a_product_that_cannot_exist_is_404(
        self, client: httpx.AsyncClient, product_id: str
    ) -> None:
        response = await client.get(f"/api/products/{product_id}")

        assert response.status_code == 404
        assert "error" in response.json()


NEW_PRODUCT = {
    "sku": "TEA-NEW-1",
    "name": "New tea",
    "description": "",
    "category": "tea",
    "price_cents": 990,
    "stock": 5,
}


class TestCatalogWrites:
    async def test_nobody_may_write_anonymously(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/products", json=NEW_PRODUCT)

        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_customers_may_not_write(self, client: httpx.AsyncClient, caller: Caller) -> None:
        caller.becomes("carol", "customer")
        response = await client.post("/api/products", json=NEW_PRODUCT)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"

    async def test_an_admin_creates_a_product_and_the_catalog_is_purged(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        await client.get("/api/products?category=tea")  # cached now
        caller.becomes("ada", "admin")

        created = await client.post("/api/products", json=NEW_PRODUCT)

        assert created.status_code == 201
        assert created.headers["location"] == f"/api/products/{created.json()['id']}"
        assert "products" in created.headers["purge-tags"].split(",")
        listing = await client.get("/api/products?category=tea")
        assert listing.headers["x-origin-cache"] == "MISS"
        assert "TEA-NEW-1" in [item["sku"] for item in listing.json()["items"]]

    async def test_an_update_is_visible_at_once_despite_the_cache(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        before = await client.get("/api/products/3")
        caller.becomes("ada", "admin")

        updated = await client.patch("/api/products/3", json={"price_cents": 1234})

        assert updated.status_code == 200
        assert set(updated.headers["purge-tags"].split(",")) == {"products", "product:3"}
        after = await client.get("/api/products/3")
        assert after.json()["price_cents"] == 1234
        assert after.headers["etag"] != before.headers["etag"]

    async def test_a_duplicate_sku_is_a_conflict(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("ada", "admin")
        assert (await client.post("/api/products", json=NEW_PRODUCT)).status_code == 201

        again = await client.post("/api/products", json=NEW_PRODUCT)

        assert again.status_code == 409
        assert again.json()["error"]["code"] == "duplicate_sku"

    async def test_invalid_fields_are_named(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("ada", "admin")
        bad = {**NEW_PRODUCT, "price_cents": -1, "stock": "many", "colour": "red"}

        response = await client.post("/api/products", json=bad)

        assert response.status_code == 422
        fields = {problem["field"] for problem in response.json()["error"]["fields"]}
        assert fields == {"price_cents", "stock", "colour"}

    async def test_a_product_that_was_ordered_cannot_be_deleted(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("bob")
        assert (await client.post("/api/orders", json=ORDER, headers=key("k"))).status_code == 201
        caller.becomes("ada", "admin")

        response = await client.delete("/api/products/1")

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "product_in_use"

    async def test_an_unordered_product_is_deleted_and_then_gone(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        await client.get("/api/products/5")
        caller.becomes("ada", "admin")

        deleted = await client.delete("/api/products/5")

        assert deleted.status_code == 204
        assert (await client.get("/api/products/5")).status_code == 404


class TestOrders:
    async def test_orders_need_a_caller(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/orders", json=ORDER, headers=key("k1"))
        assert response.status_code == 401

    async def test_an_order_takes_stock_and_is_private(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        stock = await stock_of(client, 1)
        caller.becomes("bob")

        response = await client.post("/api/orders", json=ORDER, headers=key("k1"))

        assert response.status_code == 201
        assert response.headers["cache-control"] == "private, no-store"
        order = response.json()
        assert order["items"] == [
            {"product_id": 1, "quantity": 2, "unit_price_cents": order["total_cents"] // 2}
        ]
        assert await stock_of(client, 1) == stock - 2
        fetched = await client.get(response.headers["location"])
        assert fetched.json() == order
        assert fetched.headers["cache-control"] == "private, no-store"

    async def test_an_order_without_an_idempotency_key_is_refused(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("bob")
        response = await client.post("/api/orders", json=ORDER)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "idempotency_key_required"

    async def test_a_retry_gets_the_same_order_and_buys_nothing_more(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        stock = await stock_of(client, 1)
        caller.becomes("bob")

        first = await client.post("/api/orders", json=ORDER, headers=key("retry-me"))
        second = await client.post("/api/orders", json=ORDER, headers=key("retry-me"))

        assert (first.status_code, second.status_code) == (201, 201)
        assert second.json() == first.json()
        assert second.headers["idempotent-replayed"] == "true"
        assert len((await client.get("/api/orders")).json()["items"]) == 1
        assert await stock_of(client, 1) == stock - 2

    async def test_concurrent_retries_create_one_order(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("bob")

        responses = await asyncio.gather(
            *(client.post("/api/orders", json=ORDER, headers=key("same")) for _ in range(5))
        )

        ids = {r.json()["id"] for r in responses if r.status_code == 201}
        assert len(ids) == 1
        assert {r.status_code for r in responses} <= {201, 409}
        assert len((await client.get("/api/orders")).json()["items"]) == 1

    async def test_reusing_a_key_for_a_different_order_is_refused(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("bob")
        await client.post("/api/orders", json=ORDER, headers=key("k2"))

        other = {"items": [{"product_id": 2, "quantity": 1}]}
        response = await client.post("/api/orders", json=other, headers=key("k2"))

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"

    async def test_the_same_key_from_another_customer_is_another_order(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("bob")
        bobs = await client.post("/api/orders", json=ORDER, headers=key("shared"))
        caller.becomes("carol")
        carols = await client.post("/api/orders", json=ORDER, headers=key("shared"))

        assert bobs.json()["id"] != carols.json()["id"]

    async def test_ordering_more_than_the_stock_is_a_conflict_that_takes_nothing(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("ada", "admin")
        await client.patch("/api/products/4", json={"stock": 3})
        caller.becomes("bob")
        greedy = {"items": [{"product_id": 4, "quantity": 4}]}

        response = await client.post("/api/orders", json=greedy, headers=key("k3"))

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "out_of_stock"
        assert response.json()["error"]["available"] == 3
        assert await stock_of(client, 4) == 3

    async def test_racing_for_the_last_unit_exactly_one_order_wins(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("ada", "admin")
        await client.patch("/api/products/6", json={"stock": 1})
        caller.becomes("bob")
        last = {"items": [{"product_id": 6, "quantity": 1}]}

        responses = await asyncio.gather(
            *(client.post("/api/orders", json=last, headers=key(f"racer-{n}")) for n in range(8))
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * 7
        assert await stock_of(client, 6) == 0

    async def test_another_customers_order_does_not_exist_for_you(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("bob")
        order = (await client.post("/api/orders", json=ORDER, headers=key("k4"))).json()
        caller.becomes("mallory")

        response = await client.get(f"/api/orders/{order['id']}")
        listing = await client.get("/api/orders")

        assert response.status_code == 404
        assert listing.json()["items"] == []

    async def test_an_order_for_an_unknown_product_is_404(
        self, client: httpx.AsyncClient, caller: Caller
    ) -> None:
        caller.becomes("bob")
        missing = {"items": [{"product_id": 424242, "quantity": 1}]}
        response = await client.post("/api/orders", json=missing, headers=key("k5"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "product_not_found"
