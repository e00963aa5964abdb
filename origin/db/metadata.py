"""The one ``MetaData`` every table lives in, with a naming convention for its constraints.

Named constraints are what make migrations repeatable: SQLite's batch mode can only drop or alter
a constraint it can name, and PostgreSQL's generated names differ between servers. The convention
is applied to SQLModel's shared metadata, so it must be in place before any table class is
defined; importing :mod:`origin.db` (which table modules do) guarantees that.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: MetaData = SQLModel.metadata
metadata.naming_convention = NAMING_CONVENTION
