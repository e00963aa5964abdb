# template:demo-only
"""A write's purge is recorded in the write's own transaction: committed write, recorded purge;
failed write, none. Through the demo's HTTP routes on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.purge.outbox import InvalidTag, pending_tags, purge_on_commit
from tests.origin.conftest import AppClient, Caller

pytestmark = pytest.mark.anyio

# Cloudflare's token and zone set: writes record purges.
CLOUDFLARE = {"cloudflare_api_token": SecretStr("token"), "cloudflare_zone_id": "zone"}
NEW_PRODUCT = {
    "sku": "TEA-OUTBOX-1",
    "name": "Outbox tea",
    "category": "tea",
    "price_cents": 900,
    "stock": 3,
}
TAKEN_SKU = "COF-COL-250"  # product 2's, in the seeded catalog


@pytest.fixture
async def shop(app_client: AppClient, seeded_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The origin with Cloudflare purging configured."""
    async with app_client(seeded_url, **CLOUDFLARE) as client:
        yield client


async def order(client: httpx.AsyncClient, key: str, product_id: int, quantity: int) -> Any:
    body = {"items": [{"product_id": product_id, "quantity": quantity}]}
    return await client.post("/api/orders", json=body, headers={"Idempotency-Key": key})


async def test_an_update_records_the_tags_it_invalidates(
    shop: httpx.AsyncClient, caller: Caller, engine: AsyncEngine
) -> None:
    caller.becomes("ada", "admin")

    response = await shop.patch("/api/products/3", json={"price_cents": 1234})

    assert response.status_code == 200
    assert await pending_tags(engine) == ["products", "product:3"]


async def test_a_creation_and_an_order_each_record_their_purge(
    shop: httpx.AsyncClient, caller: Caller, engine: AsyncEngine
) -> None:
    caller.becomes("ada", "admin")
    assert (await shop.post("/api/products", json=NEW_PRODUCT)).status_code == 201
    caller.becomes("bob")
    assert (await order(shop, "k1", product_id=2, quantity=1)).status_code == 201

    assert await pending_tags(engine) == ["products", "products", "product:2"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        pytest.param("POST", "/api/products", {**NEW_PRODUCT, "sku": TAKEN_SKU}, 409,
                     id="creation refused by the UNIQUE constraint"),
        pytest.param("PATCH", "/api/products/1", {"sku": TAKEN_SKU}, 409,
                     id="update refused by the UNIQUE constraint after the UPDATE ran"),
        pytest.param("PATCH", "/api/products/999", {"price_cents": 1}, 404,
                     id="update of a product that does not exist"),
        pytest.param("DELETE", "/api/products/999", None, 404,
                     id="deletion of a product that does not exist"),
        pytest.param("POST", "/api/products", {**NEW_PRODUCT, "price_cents": -1}, 422,
                     id="creation that fails validation"),
    ],
)  # fmt: skip
async def test_a_write_that_fails_leaves_no_purge(
    shop: httpx.AsyncClient,
    caller: Caller,
    engine: AsyncEngine,
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    caller.becomes("ada", "admin")

    response = await shop.request(method, path, json=body)

    assert response.status_code == status
    assert await pending_tags(engine) == []


async def test_an_order_rolled_back_after_its_row_was_inserted_leaves_no_purge(
    shop: httpx.AsyncClient, caller: Caller, engine: AsyncEngine
) -> None:
    caller.becomes("bob")

    # The order row goes in first; the stock check then fails and the transaction rolls back.
    response = await order(shop, "too-many", product_id=3, quantity=1000)

    assert response.status_code == 409
    assert await pending_tags(engine) == []


async def test_a_product_in_use_that_cannot_be_deleted_leaves_no_purge(
    shop: httpx.AsyncClient, caller: Caller, engine: AsyncEngine
) -> None:
    caller.becomes("bob")
    assert (await order(shop, "k1", product_id=1, quantity=1)).status_code == 201
    recorded = await pending_tags(engine)
    caller.becomes("ada", "admin")

    response = await shop.delete("/api/products/1")

    assert response.status_code == 409
    assert await pending_tags(engine) == recorded


async def test_without_cloudflare_configured_writes_record_nothing(
    app_client: AppClient, seeded_url: str, caller: Caller, engine: AsyncEngine
) -> None:
    caller.becomes("ada", "admin")
    async with app_client(seeded_url) as client:
        response = await client.patch("/api/products/3", json={"price_cents": 1234})

    assert response.status_code == 200
    assert response.headers["purge-tags"] == "products,product:3", "the edge still hears of it"
    assert await pending_tags(engine) == []


class TestPurgeOnCommit:
    async def test_recorded_once_by_the_commit_however_often_declared(
        self, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
    ) -> None:
        async with sessions() as session:
            purge_on_commit(session, ["a", "b"])
            purge_on_commit(session, ["b", "c"])
            assert await pending_tags(engine) == [], "nothing before the commit"
            await session.commit()

        assert await pending_tags(engine) == ["a", "b", "c"]

    async def test_a_rollback_records_nothing(
        self, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
    ) -> None:
        async with sessions() as session:
            purge_on_commit(session, ["a"])
            await session.connection()
            await session.rollback()

        assert await pending_tags(engine) == []

    async def test_each_commit_records_what_was_declared_since_the_last(
        self, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
    ) -> None:
        async with sessions() as session:
            purge_on_commit(session, ["a"])
            await session.commit()
            await session.commit()
            purge_on_commit(session, ["b"])
            await session.commit()

        assert await pending_tags(engine) == ["a", "b"]

    @pytest.mark.parametrize(
        "tag",
        ["", "two words", "a,b", "caf\u00e9", "tab\there", "x" * 1025],
        ids=["empty", "space", "comma", "non-ascii", "control", "too long"],
    )
    async def test_a_tag_cloudflare_could_not_purge_is_refused_up_front(
        self, sessions: async_sessionmaker[AsyncSession], tag: str
    ) -> None:
        async with sessions() as session:
            with pytest.raises(InvalidTag):
                purge_on_commit(session, [tag])
