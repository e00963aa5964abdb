"""Demo catalog data (replace with your app's fixtures, or drop it).

The products live in ``demo_products.json`` next to this module and pass through the same
strict schema as API input, so seed data can never hold what a client could not create.
Seeding inserts the products whose SKU is missing and leaves existing ones alone: running it
again changes nothing, and it never restocks or reprices a product someone has since changed.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db import write_transaction
from origin.db.types import utcnow
from origin.demo.models import PRODUCTS
from origin.demo.schemas import ProductCreate

DATA_FILE = "demo_products.json"


@functools.cache
def demo_products() -> tuple[ProductCreate, ...]:
    raw = json.loads(resources.files(__package__).joinpath(DATA_FILE).read_text("utf-8"))
    return tuple(ProductCreate.model_validate(item) for item in raw)


async def seed(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Insert the demo products that are missing (matched by SKU); returns how many were added."""
    now = utcnow()
    rows = [
        {**product.model_dump(), "created_at": now, "updated_at": now, "version": 1}
        for product in demo_products()
    ]
    async with sessions() as session, write_transaction(session) as connection:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(PRODUCTS)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[PRODUCTS.c.sku])
            .returning(PRODUCTS.c.id)
        )
        inserted = (await connection.execute(statement)).all()
    return len(inserted)
