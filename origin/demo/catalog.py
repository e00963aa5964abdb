"""The product catalog's data functions (demo: replace with your app's).

Each function takes an ``AsyncSession`` and returns API schemas, never ORM objects, so callers
cannot trigger lazy loads after the session is gone. Each write is one transaction of its own
(:func:`origin.db.write_transaction`), so pass a session with no transaction open; each read is
one statement sent without a transaction around it (:func:`origin.db.single_read`; it joins one
the caller opened). Statements are SQLAlchemy Core on the session's connection: about half the
per-query cost of ORM loading, and the UPDATE ... RETURNING forms make each write a single round
trip.

Deleting a product that orders refer to is refused (:class:`ProductInUse`) rather than
soft-deleted: orders keep their own copy of the price, the foreign key (ON DELETE RESTRICT)
enforces the rule for every writer, and no query has to remember to filter deleted rows. An app
that needs to retire products would add an ``active`` flag instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db import single_read, write_transaction
from origin.db.types import utcnow
from origin.demo.errors import DuplicateSku, ProductInUse, ProductNotFound, VersionMismatch
from origin.demo.models import PRODUCTS
from origin.demo.pagination import decode_cursor, encode_cursor
from origin.demo.schemas import DEFAULT_PAGE_SIZE, Page, ProductCreate, ProductRead, ProductUpdate


async def list_products(
    session: AsyncSession,
    *,
    category: str | None = None,
    q: str | None = None,
    min_price_cents: int | None = None,
    max_price_cents: int | None = None,
    in_stock: bool | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[ProductRead]:
    """Products matching every given filter, by ascending id, one page at a time.

    ``q`` matches a case-insensitive substring of the name; ``in_stock`` True keeps products
    with stock, False those without. Raises :class:`InvalidCursor` for a forged cursor.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    conditions = _product_filters(category, q, min_price_cents, max_price_cents, in_stock)
    if cursor is not None:
        conditions.append(PRODUCTS.c.id > decode_cursor(cursor))
    # One row more than asked tells whether another page exists, without a COUNT.
    statement = select(PRODUCTS).where(*conditions).order_by(PRODUCTS.c.id).limit(limit + 1)
    async with single_read(session) as connection:
        rows = (await connection.execute(statement)).all()
    items = [_product(row) for row in rows[:limit]]
    next_cursor = encode_cursor(items[-1].id) if len(rows) > limit else None
    return Page[ProductRead](items=items, next_cursor=next_cursor)


async def get_product(session: AsyncSession, product_id: int) -> ProductRead:
    async with single_read(session) as connection:
        return await _fetch_product(connection, product_id)


async def create_product(session: AsyncSession, data: ProductCreate) -> ProductRead:
    """Insert a product at version 1; :class:`DuplicateSku` if the SKU is taken."""
    now = utcnow()
    statement = (
        insert(PRODUCTS)
        .values(**data.model_dump(), created_at=now, updated_at=now, version=1)
        .returning(PRODUCTS)
    )
    try:
        async with write_transaction(session) as connection:
            row = (await connection.execute(statement)).one()
    except IntegrityError:
        # The UNIQUE constraint decides, so two racing creations cannot both pass a pre-check.
        if await _sku_taken(session, data.sku):
            raise DuplicateSku(data.sku) from None
        raise
    return _product(row)


async def update_product(
    session: AsyncSession,
    product_id: int,
    changes: ProductUpdate,
    *,
    expected_version: int | None = None,
) -> ProductRead:
    """Apply the fields present in ``changes`` and bump the version (an empty update is a no-op).

    ``expected_version`` (from an ``If-Match`` ETag) makes the update conditional: if someone
    else changed the product first, :class:`VersionMismatch` instead of overwriting their work.
    """
    values = changes.changes()
    try:
        async with write_transaction(session) as connection:
            if not values:
                product = await _fetch_product(connection, product_id)
                _check_version(product, expected_version)
                return product
            statement = (
                update(PRODUCTS)
                .where(*_this_version(product_id, expected_version))
                .values(**values, version=PRODUCTS.c.version + 1, updated_at=utcnow())
                .returning(PRODUCTS)
            )
            row = (await connection.execute(statement)).one_or_none()
            if row is None:
                raise await _why_not_written(connection, product_id, expected_version)
    except IntegrityError:
        sku = values.get("sku")
        if isinstance(sku, str) and await _sku_taken(session, sku):
            raise DuplicateSku(sku) from None
        raise
    return _product(row)


async def delete_product(
    session: AsyncSession, product_id: int, *, expected_version: int | None = None
) -> None:
    """Delete a product no order refers to (else :class:`ProductInUse`)."""
    statement = delete(PRODUCTS).where(*_this_version(product_id, expected_version))
    try:
        async with write_transaction(session) as connection:
            result = await connection.execute(statement)
            if result.rowcount == 0:
                raise await _why_not_written(connection, product_id, expected_version)
    except IntegrityError:
        # Only the order_items foreign key (ON DELETE RESTRICT) can refuse a delete.
        raise ProductInUse(product_id) from None


def _product_filters(
    category: str | None,
    q: str | None,
    min_price_cents: int | None,
    max_price_cents: int | None,
    in_stock: bool | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if category is not None:
        conditions.append(PRODUCTS.c.category == category)
    if q:
        conditions.append(PRODUCTS.c.name.ilike(f"%{_escape_like(q)}%", escape="\\"))
    if min_price_cents is not None:
        conditions.append(PRODUCTS.c.price_cents >= min_price_cents)
    if max_price_cents is not None:
        conditions.append(PRODUCTS.c.price_cents <= max_price_cents)
    if in_stock is True:
        conditions.append(PRODUCTS.c.stock > 0)
    elif in_stock is False:
        conditions.append(PRODUCTS.c.stock == 0)
    return conditions


def _escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (``%`` and ``_`` are not wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _this_version(product_id: int, expected_version: int | None) -> list[ColumnElement[bool]]:
    conditions = [PRODUCTS.c.id == product_id]
    if expected_version is not None:
        conditions.append(PRODUCTS.c.version == expected_version)
    return conditions


def _check_version(product: ProductRead, expected_version: int | None) -> None:
    if expected_version is not None and product.version != expected_version:
        raise VersionMismatch(product.id, expected_version, product.version)


async def _why_not_written(
    connection: AsyncConnection, product_id: int, expected_version: int | None
) -> Exception:
    """The error for a conditional write that matched no row: no product, or another version."""
    product = await _fetch_product(connection, product_id)
    assert expected_version is not None  # the row exists, so only the version can have differed
    return VersionMismatch(product_id, expected_version, product.version)


# Built once (the hot read): a statement built per call costs its construction and cache key.
_PRODUCT_BY_ID = select(PRODUCTS).where(PRODUCTS.c.id == bindparam("product_id"))


async def _fetch_product(connection: AsyncConnection, product_id: int) -> ProductRead:
    parameters = {"product_id": product_id}
    row = (await connection.execute(_PRODUCT_BY_ID, parameters)).one_or_none()
    if row is None:
        raise ProductNotFound(product_id)
    return _product(row)


async def _sku_taken(session: AsyncSession, sku: str) -> bool:
    statement = select(exists().where(PRODUCTS.c.sku == sku))
    async with single_read(session) as connection:
        return bool((await connection.execute(statement)).scalar())


def _product(row: Row[Any]) -> ProductRead:
    return ProductRead.model_validate(row, from_attributes=True)
