"""Demo tables (replace with your app's): products, orders and their lines.

Invariants live in the database, not only in Python, so that they hold for every writer and
under concurrency: stock and prices can never go negative (CHECK), a SKU exists once (UNIQUE),
an idempotency key names one order per owner (UNIQUE), a line points at a real order and
product (foreign keys; a product with orders cannot be deleted).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Table,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

import origin.db.metadata  # noqa: F401  (the naming convention must precede every table)
from origin.db.types import UTCDateTime, utcnow

SKU_MAX = 64
NAME_MAX = 200
DESCRIPTION_MAX = 2000
CATEGORY_MAX = 64
SUBJECT_MAX = 255
IDEMPOTENCY_KEY_MAX = 255
FINGERPRINT_MAX = 128
STATUS_MAX = 32


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_cents_non_negative"),
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=SKU_MAX, unique=True)
    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    category: str = Field(max_length=CATEGORY_MAX, index=True)
    price_cents: int
    stock: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Incremented by every change, stock included: the ETag of the product's representation.
    version: int = Field(default=1)


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # Serves "this owner's orders, newest first" (keyset pagination by id) and lookups by owner.
        Index("ix_orders_owner_subject_id", "owner_subject", "id"),
        UniqueConstraint("owner_subject", "idempotency_key"),
        CheckConstraint("total_cents >= 0", name="total_cents_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_subject: str = Field(max_length=SUBJECT_MAX)
    status: str = Field(default="placed", max_length=STATUS_MAX)
    # 64-bit: 50 lines x 1000 units x the highest price overflows a 32-bit integer.
    total_cents: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # NULL when the client sent no Idempotency-Key; NULLs never collide in a UNIQUE constraint.
    idempotency_key: str | None = Field(default=None, max_length=IDEMPOTENCY_KEY_MAX)
    request_fingerprint: str | None = Field(default=None, max_length=FINGERPRINT_MAX)


class OrderItem(SQLModel, table=True):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_cents >= 0", name="unit_price_cents_non_negative"),
    )

    order_id: int = Field(
        sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    )
    # Indexed for "is this product referenced by any order?" (deleting a product).
    product_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("products.id", ondelete="RESTRICT"),
            primary_key=True,
            index=True,
        )
    )
    quantity: int
    # The price when ordered: later price changes must not rewrite past orders.
    unit_price_cents: int


PRODUCTS: Table = Product.__table__  # type: ignore[attr-defined]
ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
ORDER_ITEMS: Table = OrderItem.__table__  # type: ignore[attr-defined]
