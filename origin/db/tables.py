"""Every module that defines tables, so that migrations see the whole schema.

Alembic compares the database with ``SQLModel.metadata``, which only knows the tables whose
modules have been imported. A new app adds its model modules to :data:`TABLE_MODULES` (and
writes a migration); the schema test then checks that models and migrations agree.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from origin.db.metadata import metadata

TABLE_MODULES: tuple[str, ...] = (
    "origin.demo.models",  # template:demo
    "origin.identity.models",
    "origin.purge.models",
)


def load_tables() -> MetaData:
    """The metadata with every table of :data:`TABLE_MODULES` registered on it."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    return metadata
