"""Orders: stock is never oversold and retries never buy twice (SQLite and PostgreSQL).

The races are real: each racer has its own session and connection, started together with
``asyncio.gather``; the database alone decides who wins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.demo.catalog import create_product, get_product
from origin.demo.errors import (
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    OrderNotFound,
    OutOfStock,
    ProductNotFound,
)
from origin.demo.models import ORDER_ITEMS, ORDERS
from origin.demo.orders import (
    check_idempotency_key,
    get_order,
    list_orders,
    order_fingerprint,
    place_order,
)
from origin.demo.schemas import OrderCreate, OrderLineCreate, OrderRead, ProductCreate

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]
RACERS = 10


async def _product(sessions: Sessions, sku: str, *, price_cents: int, stock: int) -> int:
    data = ProductCreate(sku=sku, name=sku, category="things", price_cents=price_cents, stock=stock)
    async with sessions() as session:
        return (await create_product(session, data)).id


def _lines(*pairs: tuple[int, int]) -> list[OrderLineCreate]:
    return [OrderLineCreate(product_id=pid, quantity=qty) for pid, qty in pairs]


async def _order(
    sessions: Sessions,
    lines: Sequence[OrderLineCreate],
    *,
    owner: str = "alice",
    key: str | None = None,
    fingerprint: str | None = None,
) -> tuple[OrderRead, bool]:
    async with sessions() as session:
        return await place_order(session, owner, lines, key, fingerprint)


async def _stock(sessions: Sessions, product_id: int) -> int:
    async with sessions() as session:
        return (await get_product(session, product_id)).stock


async def _count(engine: AsyncEngine, table: sa.Table) -> int:
    async with engine.connect() as connection:
        return (
            await connection.execute(sa.select(sa.func.count()).select_from(table))
        ).scalar_one()


async def test_an_order_takes_stock_and_records_prices_and_total(sessions: Sessions) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)
    tea = await _product(sessions, "TEA", price_cents=750, stock=10)

    order, created = await _order(sessions, _lines((tea, 4), (mug, 2)))

    assert created is True
    assert order.status == "placed"
    assert order.total_cents == 2 * 1800 + 4 * 750
    assert [(i.product_id, i.quantity, i.unit_price_cents) for i in order.items] == [
        (mug, 2, 1800),
        (tea, 4, 750),
    ]
    assert (await _stock(sessions, mug), await _stock(sessions, tea)) == (3, 6)
    async with sessions() as session:
        assert await get_order(session, "alice", order.id) == order


async def test_taking_stock_changes_the_products_version_for_its_etag(sessions: Sessions) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)

    await _order(sessions, _lines((mug, 1)))

    async with sessions() as session:
        assert (await get_product(session, mug)).version == 2


async def test_an_order_for_more_than_is_in_stock_takes_nothing(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)
    tea = await _product(sessions, "TEA", price_cents=750, stock=1)

    with pytest.raises(OutOfStock) as raised:
        await _order(sessions, _lines((mug, 2), (tea, 3)))

    assert (raised.value.product_id, raised.value.requested, raised.value.available) == (tea, 3, 1)
    assert (await _stock(sessions, mug), await _stock(sessions, tea)) == (5, 1)
    assert await _count(engine, ORDERS) == 0


async def test_an_order_for_an_unknown_product_takes_nothing(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)

    with pytest.raises(ProductNotFound) as raised:
        await _order(sessions, _lines((mug, 1), (mug + 100, 1)))

    assert raised.value.product_id == mug + 100
    assert await _stock(sessions, mug) == 5
    assert await _count(engine, ORDERS) == await _count(engine, ORDER_ITEMS) == 0


async def test_racing_for_the_last_unit_exactly_one_order_wins(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    last = await _product(sessions, "LAST", price_cents=500, stock=1)

    results = await asyncio.gather(
        *(_order(sessions, _lines((last, 1)), owner=f"racer-{n}") for n in range(RACERS)),
        return_exceptions=True,
    )

    winners = [result for result in results if isinstance(result, tuple)]
    losers = [result for result in results if isinstance(result, OutOfStock)]
    assert len(winners) == 1, results
    assert len(losers) == RACERS - 1, results
    assert all(loser.available == 0 for loser in losers)
    assert await _stock(sessions, last) == 0
    assert await _count(engine, ORDERS) == 1


async def test_racing_orders_sell_exactly_the_stock_and_never_below_zero(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    few = await _product(sessions, "FEW", price_cents=500, stock=7)

    results = await asyncio.gather(
        *(_order(sessions, _lines((few, 2)), owner=f"racer-{n}") for n in range(RACERS)),
        return_exceptions=True,
    )

    winners = [result for result in results if isinstance(result, tuple)]
    assert len(winners) == 3  # 3 x 2 = 6 of 7; the fourth would need 8
    assert all(isinstance(r, tuple | OutOfStock) for r in results), results
    assert await _stock(sessions, few) == 1
    assert await _count(engine, ORDERS) == 3


async def test_orders_sharing_products_in_opposite_line_order_do_not_deadlock(
    sessions: Sessions,
) -> None:
    a = await _product(sessions, "A", price_cents=100, stock=100)
    b = await _product(sessions, "B", price_cents=100, stock=100)

    results = await asyncio.gather(
        *(
            _order(
                sessions,
                _lines((a, 1), (b, 1)) if n % 2 else _lines((b, 1), (a, 1)),
                owner=f"racer-{n}",
            )
            for n in range(RACERS)
        )
    )

    assert all(created for _, created in results)
    assert (await _stock(sessions, a), await _stock(sessions, b)) == (90, 90)


async def test_a_retry_with_the_same_key_returns_the_first_order_and_takes_nothing_more(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)
    lines = _lines((mug, 2))
    fingerprint = order_fingerprint(OrderCreate(items=lines))

    first, first_created = await _order(sessions, lines, key="k-1", fingerprint=fingerprint)
    again, again_created = await _order(sessions, lines, key="k-1", fingerprint=fingerprint)

    assert (first_created, again_created) == (True, False)
    assert again == first
    assert await _stock(sessions, mug) == 3
    assert await _count(engine, ORDERS) == 1


async def test_concurrent_identical_requests_create_one_order(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=100)
    lines = _lines((mug, 3))
    fingerprint = order_fingerprint(OrderCreate(items=lines))

    results = await asyncio.gather(
        *(_order(sessions, lines, key="same-key", fingerprint=fingerprint) for _ in range(RACERS))
    )

    assert sum(created for _, created in results) == 1
    assert len({order.id for order, _ in results}) == 1
    assert await _stock(sessions, mug) == 97
    assert await _count(engine, ORDERS) == 1


async def test_reusing_a_key_for_a_different_request_is_refused(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)
    first = OrderCreate(items=_lines((mug, 1)))
    different = OrderCreate(items=_lines((mug, 2)))
    await _order(sessions, first.items, key="k-1", fingerprint=order_fingerprint(first))

    with pytest.raises(IdempotencyKeyReused) as raised:
        await _order(sessions, different.items, key="k-1", fingerprint=order_fingerprint(different))

    assert raised.value.key == "k-1"
    assert await _stock(sessions, mug) == 4
    assert await _count(engine, ORDERS) == 1


async def test_keys_belong_to_one_owner(sessions: Sessions) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)
    lines = _lines((mug, 1))

    alice, _ = await _order(sessions, lines, owner="alice", key="k-1", fingerprint="f")
    bob, bob_created = await _order(sessions, lines, owner="bob", key="k-1", fingerprint="f")

    assert bob_created is True
    assert bob.id != alice.id
    assert await _stock(sessions, mug) == 3


async def test_orders_without_a_key_are_never_deduplicated(sessions: Sessions) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)

    for _ in range(2):
        _, created = await _order(sessions, _lines((mug, 1)))
        assert created is True

    assert await _stock(sessions, mug) == 3


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\tin", "naïve"])
def test_malformed_idempotency_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        check_idempotency_key(key)


def test_idempotency_keys_of_printable_ascii_up_to_255_characters_are_accepted() -> None:
    for key in ("k", "k" * 255, "2f1c-9a/B+=~ x"):
        check_idempotency_key(key)


async def test_an_order_with_a_malformed_key_takes_nothing(
    sessions: Sessions, engine: AsyncEngine
) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)

    with pytest.raises(InvalidIdempotencyKey):
        await _order(sessions, _lines((mug, 1)), key="k" * 256, fingerprint="f")

    assert await _stock(sessions, mug) == 5
    assert await _count(engine, ORDERS) == 0


def test_the_fingerprint_ignores_line_order_but_not_quantities() -> None:
    ab = OrderCreate(items=_lines((1, 2), (3, 4)))
    ba = OrderCreate(items=_lines((3, 4), (1, 2)))
    more = OrderCreate(items=_lines((1, 2), (3, 5)))

    assert order_fingerprint(ab) == order_fingerprint(ba)
    assert order_fingerprint(ab) != order_fingerprint(more)


async def test_another_owners_order_is_not_found(sessions: Sessions) -> None:
    mug = await _product(sessions, "MUG", price_cents=1800, stock=5)
    order, _ = await _order(sessions, _lines((mug, 1)), owner="alice")

    async with sessions() as session:
        with pytest.raises(OrderNotFound):
            await get_order(session, "mallory", order.id)
        with pytest.raises(OrderNotFound):
            await get_order(session, "alice", order.id + 1)


async def test_an_owner_pages_through_their_orders_newest_first(sessions: Sessions) -> None:
    mug = await _product(sessions, "MUG", price_cents=100, stock=100)
    mine = [(await _order(sessions, _lines((mug, n)), owner="alice"))[0] for n in range(1, 6)]
    await _order(sessions, _lines((mug, 1)), owner="bob")

    async with sessions() as session:
        first = await list_orders(session, "alice", limit=2)
        second = await list_orders(session, "alice", limit=2, cursor=first.next_cursor)
        third = await list_orders(session, "alice", limit=2, cursor=second.next_cursor)

    pages = [first, second, third]
    listed = [order for page in pages for order in page.items]
    assert [order.id for order in listed] == [order.id for order in reversed(mine)]
    assert listed == list(reversed(mine))  # lines and totals included
    assert third.next_cursor is None
    async with sessions() as session:
        assert (await list_orders(session, "carol")).items == []
