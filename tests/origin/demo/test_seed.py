"""Seeding loads the demo catalog once and never overwrites what happened since."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.demo.catalog import delete_product, list_products, update_product
from origin.demo.schemas import ProductRead, ProductUpdate
from origin.demo.seed import demo_products, seed

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]


async def _catalog(sessions: Sessions) -> dict[str, ProductRead]:
    async with sessions() as session:
        page = await list_products(session, limit=100)
    assert page.next_cursor is None
    return {product.sku: product for product in page.items}


def test_the_demo_catalog_has_about_thirty_products_worth_browsing() -> None:
    products = demo_products()

    assert 25 <= len(products) <= 40
    assert len({product.sku for product in products}) == len(products)
    assert len({product.category for product in products}) >= 4
    assert any(product.stock == 0 for product in products)  # in_stock=false has results


async def test_seeding_an_empty_database_inserts_every_demo_product(sessions: Sessions) -> None:
    inserted = await seed(sessions)

    catalog = await _catalog(sessions)
    assert inserted == len(demo_products()) == len(catalog)
    for product in demo_products():
        stored = catalog[product.sku]
        assert (stored.name, stored.price_cents, stored.stock, stored.version) == (
            product.name,
            product.price_cents,
            product.stock,
            1,
        )


async def test_seeding_again_changes_nothing(sessions: Sessions) -> None:
    await seed(sessions)
    before = await _catalog(sessions)

    assert await seed(sessions) == 0
    assert await _catalog(sessions) == before


async def test_seeding_never_restocks_or_reprices_a_changed_product(sessions: Sessions) -> None:
    await seed(sessions)
    original = (await _catalog(sessions))["COF-ETH-250"]
    async with sessions() as session:
        changed = await update_product(
            session, original.id, ProductUpdate(stock=1, price_cents=999)
        )

    await seed(sessions)

    assert (await _catalog(sessions))["COF-ETH-250"] == changed


async def test_seeding_puts_back_only_the_products_that_are_missing(sessions: Sessions) -> None:
    await seed(sessions)
    doomed = (await _catalog(sessions))["TEA-SEN-100"]
    async with sessions() as session:
        await delete_product(session, doomed.id)

    assert await seed(sessions) == 1
    assert len(await _catalog(sessions)) == len(demo_products())
