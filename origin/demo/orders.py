"""Placing and reading orders (demo: replace with your app's).

Placing an order is one transaction that either does everything or nothing:

1. If the client sent an ``Idempotency-Key`` already used by this owner, the stored order is the
   answer (a retry after a lost response must not buy twice). A different request under the
   same key is refused (:class:`IdempotencyKeyReused`) rather than guessed at.
2. The order row is inserted first. Its UNIQUE(owner_subject, idempotency_key) constraint is the
   arbiter between concurrent retries: on PostgreSQL the second insert waits for the first
   transaction and fails once it commits, and the loser then answers with the winner's order.
   (On SQLite, write transactions run one at a time, so the loser finds the order in step 1.)
3. Stock is taken with ``UPDATE ... SET stock = stock - q WHERE id = :id AND stock >= q``: the
   database checks and decrements in one step, so concurrent orders can never oversell and stock
   never goes negative (the CHECK constraint backs this up). Lines are taken in product-id order
   so two orders sharing products lock rows in the same order and cannot deadlock.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import FromClause, Integer, Row, Select, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db import read_transaction, single_read, write_transaction
from origin.db.types import utcnow
from origin.demo.errors import (
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    OrderNotFound,
    OutOfStock,
    ProductNotFound,
)
from origin.demo.models import IDEMPOTENCY_KEY_MAX, ORDER_ITEMS, ORDERS, PRODUCTS
from origin.demo.pagination import decode_cursor, encode_cursor
from origin.demo.schemas import (
    DEFAULT_PAGE_SIZE,
    OrderCreate,
    OrderLineCreate,
    OrderLineRead,
    OrderRead,
    Page,
)

PLACED = "placed"


def order_fingerprint(order: OrderCreate) -> str:
    """A digest of what was ordered, independent of JSON formatting and line order.

    Stored with the idempotency key to tell a true retry from a new request reusing the key.
    """
    lines = sorted((line.product_id, line.quantity) for line in order.items)
    canonical = json.dumps(lines, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# Printable ASCII, not starting or ending with a space (a server strips those from a header
# field value, so a key that has them could never arrive as sent). The OpenAPI document states it.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~](?:[ -~]*[!-~])?$"


def check_idempotency_key(key: str) -> None:
    """Accept 1-255 printable ASCII characters (the column's size; no control characters)."""
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
        raise InvalidIdempotencyKey(f"must be 1 to {IDEMPOTENCY_KEY_MAX} characters long")
    if re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key) is None:
        raise InvalidIdempotencyKey("must be printable ASCII, without surrounding spaces")


async def place_order(
    session: AsyncSession,
    owner_subject: str,
    items: Sequence[OrderLineCreate],
    idempotency_key: str | None,
    request_fingerprint: str | None,
) -> tuple[OrderRead, bool]:
    """Place an order for ``owner_subject``; ``created`` is False when a retry was answered.

    Raises :class:`ProductNotFound`, :class:`OutOfStock` (nothing is taken then),
    :class:`IdempotencyKeyReused` or :class:`InvalidIdempotencyKey`. ``session`` must have no
    transaction open.
    """
    lines = sorted(items, key=lambda line: line.product_id)
    if not lines:
        raise ValueError("an order needs at least one line")
    if len({line.product_id for line in lines}) != len(lines):
        raise ValueError("each product may appear on one line only")
    if idempotency_key is not None:
        check_idempotency_key(idempotency_key)
    try:
        async with write_transaction(session) as connection:
            if idempotency_key is not None:
                existing = await _keyed_order(connection, owner_subject, idempotency_key)
                if existing is not None:
                    return _replay(existing, idempotency_key, request_fingerprint), False
            order = await _insert_order(
                connection, owner_subject, lines, idempotency_key, request_fingerprint
            )
            return order, True
    except IntegrityError:
        if idempotency_key is None:
            raise
        # Lost the race for the key: the winner has committed, so its order is visible now.
        async with read_transaction(session) as connection:
            existing = await _keyed_order(connection, owner_subject, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, idempotency_key, request_fingerprint), False


async def get_order(session: AsyncSession, owner_subject: str, order_id: int) -> OrderRead:
    """The owner's order; another owner's is :class:`OrderNotFound`, as if it did not exist."""
    parameters = {"order_id": order_id, "owner_subject": owner_subject}
    async with single_read(session) as connection:
        rows = (await connection.execute(_OWNED_ORDER, parameters)).all()
    if not rows:
        raise OrderNotFound(order_id)
    return _orders_from(rows)[0]


async def list_orders(
    session: AsyncSession,
    owner_subject: str,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[OrderRead]:
    """The owner's orders, newest first, one page at a time (one statement per page)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    # One more than the page, to know whether another page follows.
    parameters = {"owner_subject": owner_subject, "page_rows": limit + 1}
    statement = _FIRST_PAGE
    if cursor is not None:
        parameters["before_id"] = decode_cursor(cursor)
        statement = _NEXT_PAGE
    async with single_read(session) as connection:
        rows = (await connection.execute(statement, parameters)).all()
    orders = _orders_from(rows)
    next_cursor = encode_cursor(orders[limit - 1].id) if len(orders) > limit else None
    return Page[OrderRead](items=orders[:limit], next_cursor=next_cursor)


async def _insert_order(
    connection: AsyncConnection,
    owner_subject: str,
    lines: Sequence[OrderLineCreate],
    idempotency_key: str | None,
    request_fingerprint: str | None,
) -> OrderRead:
    now = utcnow()
    # Inserted before any stock is touched: with a key, this claims it (see the module docs).
    order_row = (
        await connection.execute(
            insert(ORDERS)
            .values(
                owner_subject=owner_subject,
                status=PLACED,
                total_cents=0,
                created_at=now,
                idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint,
            )
            .returning(ORDERS.c.id)
        )
    ).one()
    order_id: int = order_row.id
    placed = [
        OrderLineRead(
            product_id=line.product_id,
            quantity=line.quantity,
            unit_price_cents=await _take_stock(connection, line),
        )
        for line in lines
    ]
    total = sum(line.quantity * line.unit_price_cents for line in placed)
    await connection.execute(
        insert(ORDER_ITEMS), [{"order_id": order_id, **line.model_dump()} for line in placed]
    )
    await connection.execute(
        update(ORDERS).where(ORDERS.c.id == order_id).values(total_cents=total)
    )
    return OrderRead(id=order_id, status=PLACED, total_cents=total, created_at=now, items=placed)


async def _take_stock(connection: AsyncConnection, line: OrderLineCreate) -> int:
    """Decrement the product's stock by the line's quantity; its current price is returned."""
    taken = PRODUCTS.c.stock >= line.quantity
    statement = (
        update(PRODUCTS)
        .where(PRODUCTS.c.id == line.product_id, taken)
        .values(
            stock=PRODUCTS.c.stock - line.quantity,
            # Stock is part of the product's representation, so its ETag must change too.
            version=PRODUCTS.c.version + 1,
            updated_at=utcnow(),
        )
        .returning(PRODUCTS.c.price_cents)
    )
    price = (await connection.execute(statement)).scalar_one_or_none()
    if price is None:
        raise await _unavailable(connection, line)
    return int(price)


async def _unavailable(connection: AsyncConnection, line: OrderLineCreate) -> Exception:
    statement = select(PRODUCTS.c.stock).where(PRODUCTS.c.id == line.product_id)
    stock = (await connection.execute(statement)).scalar_one_or_none()
    if stock is None:
        return ProductNotFound(line.product_id)
    return OutOfStock(line.product_id, requested=line.quantity, available=int(stock))


async def _keyed_order(
    connection: AsyncConnection, owner_subject: str, idempotency_key: str
) -> tuple[OrderRead, str | None] | None:
    """The order placed earlier under this key, with the fingerprint it was placed with."""
    statement = _with_lines(ORDERS).where(
        ORDERS.c.owner_subject == owner_subject, ORDERS.c.idempotency_key == idempotency_key
    )
    rows = (await connection.execute(statement)).all()
    if not rows:
        return None
    return _orders_from(rows)[0], rows[0].request_fingerprint


def _replay(
    existing: tuple[OrderRead, str | None], idempotency_key: str, request_fingerprint: str | None
) -> OrderRead:
    order, stored_fingerprint = existing
    if stored_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(idempotency_key)
    return order


def _with_lines(orders: FromClause) -> Select[Any]:
    """``orders`` (the table, or a subquery of its rows) joined with their lines: one statement,
    one round trip, one row per line, newest order first. (An order always has lines; the outer
    join still finds one that had none.)"""
    return (
        select(
            orders, ORDER_ITEMS.c.product_id, ORDER_ITEMS.c.quantity, ORDER_ITEMS.c.unit_price_cents
        )
        .outerjoin(ORDER_ITEMS, ORDER_ITEMS.c.order_id == orders.c.id)
        .order_by(orders.c.id.desc(), ORDER_ITEMS.c.product_id)
    )


def _page_of_orders(*, after_cursor: bool) -> Select[Any]:
    page = select(ORDERS).where(ORDERS.c.owner_subject == bindparam("owner_subject"))
    if after_cursor:
        page = page.where(ORDERS.c.id < bindparam("before_id"))
    page = page.order_by(ORDERS.c.id.desc()).limit(bindparam("page_rows", type_=Integer))
    return _with_lines(page.subquery("page"))


# The hot reads are built once, with parameters: a statement built per request costs its
# construction and its cache key (SQLAlchemy walks it to find the compiled form) every time.
_OWNED_ORDER = _with_lines(ORDERS).where(
    ORDERS.c.id == bindparam("order_id"), ORDERS.c.owner_subject == bindparam("owner_subject")
)
_FIRST_PAGE = _page_of_orders(after_cursor=False)
_NEXT_PAGE = _page_of_orders(after_cursor=True)


def _orders_from(rows: Sequence[Row[Any]]) -> list[OrderRead]:
    """The orders in rows of :func:`_with_lines`, in their order, each with its lines."""
    orders: dict[int, tuple[Row[Any], list[OrderLineRead]]] = {}
    for row in rows:
        _, lines = orders.setdefault(row.id, (row, []))
        if row.product_id is not None:
            lines.append(
                OrderLineRead(
                    product_id=row.product_id,
                    quantity=row.quantity,
                    unit_price_cents=row.unit_price_cents,
                )
            )
    return [
        OrderRead(
            id=order.id,
            status=order.status,
            total_cents=order.total_cents,
            created_at=order.created_at,
            items=lines,
        )
        for order, lines in orders.values()
    ]
