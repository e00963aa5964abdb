"""The catalog's data functions on a real database (every test runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db import write_transaction
from origin.demo.catalog import (
    create_product,
    delete_product,
    get_product,
    list_products,
    update_product,
)
from origin.demo.errors import (
    DuplicateSku,
    InvalidCursor,
    ProductInUse,
    ProductNotFound,
    VersionMismatch,
)
from origin.demo.models import PRODUCTS
from origin.demo.orders import place_order
from origin.demo.schemas import OrderLineCreate, ProductCreate, ProductRead, ProductUpdate
from origin.demo.seed import demo_products, seed

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]


def _new(sku: str, **fields: Any) -> ProductCreate:
    values: dict[str, Any] = {
        "sku": sku,
        "name": f"Product {sku}",
        "category": "things",
        "price_cents": 1000,
        "stock": 10,
    }
    return ProductCreate.model_validate({**values, **fields})


async def _create(sessions: Sessions, sku: str, **fields: Any) -> ProductRead:
    async with sessions() as session:
        return await create_product(session, _new(sku, **fields))


async def _all_pages(sessions: Sessions, **filters: Any) -> list[ProductRead]:
    found: list[ProductRead] = []
    cursor = None
    async with sessions() as session:
        while True:
            page = await list_products(session, cursor=cursor, **filters)
            found.extend(page.items)
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor


async def test_a_created_product_starts_at_version_one_and_can_be_read_back(
    sessions: Sessions,
) -> None:
    created = await _create(sessions, "MUG-1", description="Stoneware.")

    async with sessions() as session:
        loaded = await get_product(session, created.id)

    assert loaded == created
    assert (loaded.sku, loaded.description, loaded.version) == ("MUG-1", "Stoneware.", 1)
    assert loaded.created_at.tzinfo == UTC
    assert loaded.created_at == loaded.updated_at


async def test_a_missing_product_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(ProductNotFound) as raised:
        await get_product(session, 999)

    assert raised.value.product_id == 999


async def test_a_second_product_with_the_same_sku_is_a_conflict(sessions: Sessions) -> None:
    await _create(sessions, "MUG-1")

    with pytest.raises(DuplicateSku) as raised:
        await _create(sessions, "MUG-1", name="Another mug")

    assert raised.value.sku == "MUG-1"
    assert [p.name for p in await _all_pages(sessions)] == ["Product MUG-1"]


async def test_an_update_changes_only_the_given_fields_and_bumps_the_version(
    sessions: Sessions,
) -> None:
    created = await _create(sessions, "MUG-1")

    async with sessions() as session:
        updated = await update_product(
            session, created.id, ProductUpdate(price_cents=1250, name="Big mug")
        )

    assert (updated.price_cents, updated.name, updated.stock) == (1250, "Big mug", 10)
    assert updated.version == 2
    assert updated.updated_at > created.updated_at
    assert updated.created_at == created.created_at
    async with sessions() as session:
        assert await get_product(session, created.id) == updated


async def test_every_update_bumps_the_version_again(sessions: Sessions) -> None:
    created = await _create(sessions, "MUG-1")

    for stock in (9, 8, 7):
        async with sessions() as session:
            last = await update_product(session, created.id, ProductUpdate(stock=stock))

    assert (last.stock, last.version) == (7, 4)


async def test_an_empty_update_changes_nothing(sessions: Sessions) -> None:
    created = await _create(sessions, "MUG-1")

    async with sessions() as session:
        unchanged = await update_product(session, created.id, ProductUpdate())

    assert unchanged == created


async def test_an_update_with_a_stale_version_is_refused_and_writes_nothing(
    sessions: Sessions,
) -> None:
    created = await _create(sessions, "MUG-1")
    async with sessions() as session:
        await update_product(session, created.id, ProductUpdate(stock=5), expected_version=1)

    with pytest.raises(VersionMismatch) as raised:
        async with sessions() as session:
            await update_product(session, created.id, ProductUpdate(stock=0), expected_version=1)

    assert (raised.value.expected, raised.value.current) == (1, 2)
    async with sessions() as session:
        assert (await get_product(session, created.id)).stock == 5


async def test_updating_a_missing_product_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(ProductNotFound):
        await update_product(session, 404, ProductUpdate(stock=1))


async def test_taking_another_products_sku_is_a_conflict(sessions: Sessions) -> None:
    await _create(sessions, "MUG-1")
    second = await _create(sessions, "MUG-2")

    with pytest.raises(DuplicateSku):
        async with sessions() as session:
            await update_product(session, second.id, ProductUpdate(sku="MUG-1"))

    async with sessions() as session:
        assert (await get_product(session, second.id)).sku == "MUG-2"


async def test_the_database_refuses_negative_stock_and_prices_whoever_writes(
    sessions: Sessions,
) -> None:
    created = await _create(sessions, "MUG-1")

    for column in ("stock", "price_cents"):
        with pytest.raises(IntegrityError):
            async with sessions() as session, write_transaction(session) as connection:
                await connection.execute(
                    sa.update(PRODUCTS).where(PRODUCTS.c.id == created.id).values({column: -1})
                )

    async with sessions() as session:
        assert await get_product(session, created.id) == created


async def test_a_product_nobody_ordered_can_be_deleted(sessions: Sessions) -> None:
    created = await _create(sessions, "MUG-1")

    async with sessions() as session:
        await delete_product(session, created.id)

    async with sessions() as session:
        with pytest.raises(ProductNotFound):
            await get_product(session, created.id)
        with pytest.raises(ProductNotFound):
            await delete_product(session, created.id)


async def test_a_product_that_was_ordered_cannot_be_deleted(sessions: Sessions) -> None:
    created = await _create(sessions, "MUG-1")
    async with sessions() as session:
        await place_order(
            session, "alice", [OrderLineCreate(product_id=created.id, quantity=1)], None, None
        )

    with pytest.raises(ProductInUse):
        async with sessions() as session:
            await delete_product(session, created.id)

    async with sessions() as session:
        assert (await get_product(session, created.id)).stock == 9


async def test_deleting_with_a_stale_version_is_refused(sessions: Sessions) -> None:
    created = await _create(sessions, "MUG-1")
    async with sessions() as session:
        await update_product(session, created.id, ProductUpdate(stock=1))

    with pytest.raises(VersionMismatch):
        async with sessions() as session:
            await delete_product(session, created.id, expected_version=1)

    async with sessions() as session:
        assert (await get_product(session, created.id)).version == 2


async def test_paging_through_the_catalog_returns_every_product_once_in_id_order(
    sessions: Sessions,
) -> None:
    await seed(sessions)

    async with sessions() as session:
        first = await list_products(session, limit=7)
    everything = await _all_pages(sessions, limit=7)

    assert len(first.items) == 7
    assert first.next_cursor is not None
    assert len(everything) == len(demo_products())
    ids = [product.id for product in everything]
    assert ids == sorted(set(ids))
    assert {p.sku for p in everything} == {p.sku for p in demo_products()}


async def test_the_last_page_has_no_next_cursor_even_when_exactly_full(
    sessions: Sessions,
) -> None:
    for n in range(4):
        await _create(sessions, f"SKU-{n}")

    async with sessions() as session:
        page = await list_products(session, limit=4)

    assert len(page.items) == 4
    assert page.next_cursor is None


async def test_a_page_never_shifts_when_earlier_products_are_deleted(sessions: Sessions) -> None:
    created = [await _create(sessions, f"SKU-{n}") for n in range(6)]
    async with sessions() as session:
        first = await list_products(session, limit=3)
    async with sessions() as session:
        await delete_product(session, created[0].id)

    async with sessions() as session:
        second = await list_products(session, limit=3, cursor=first.next_cursor)

    assert [p.id for p in second.items] == [p.id for p in created[3:]]


async def test_a_forged_cursor_is_refused(session: AsyncSession) -> None:
    with pytest.raises(InvalidCursor):
        await list_products(session, cursor="not-a-cursor")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"category": "tea"}, {"tea-green", "tea-black"}),
        ({"q": "MUG"}, {"mug-big", "mug-small"}),  # case-insensitive substring of the name
        ({"q": "100%"}, {"tea-black"}),  # % is a literal, not a wildcard
        ({"q": "_"}, set()),
        ({"min_price_cents": 500, "max_price_cents": 1500}, {"tea-black", "mug-small"}),
        ({"in_stock": True}, {"tea-green", "mug-big", "mug-small"}),
        ({"in_stock": False}, {"tea-black", "pot"}),
        ({"category": "kitchen", "in_stock": True, "max_price_cents": 1000}, {"mug-small"}),
        ({}, {"tea-green", "tea-black", "mug-big", "mug-small", "pot"}),
    ],
)
async def test_filters_narrow_the_list(
    sessions: Sessions, filters: dict[str, Any], expected: set[str]
) -> None:
    rows = [
        ("tea-green", "Sencha green tea", "tea", 1900, 4),
        ("tea-black", "Assam 100% black tea", "tea", 800, 0),
        ("mug-big", "Big Mug", "kitchen", 2500, 3),
        ("mug-small", "Small mug", "kitchen", 900, 8),
        ("pot", "Tea pot", "kitchen", 4000, 0),
    ]
    for sku, name, category, price, stock in rows:
        await _create(sessions, sku, name=name, category=category, price_cents=price, stock=stock)

    found = await _all_pages(sessions, limit=2, **filters)

    assert {product.sku for product in found} == expected
