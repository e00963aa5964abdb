"""The database layer: engine and sessions, the shared table metadata, migrations.

Importing this package first applies the constraint naming convention (:mod:`origin.db.metadata`),
which every table definition must see.
"""

from origin.db.engine import create_engine, session_factory
from origin.db.metadata import metadata
from origin.db.migrate import (
    DatabaseNotMigrated,
    current_revision,
    ensure_migrated,
    head_revision,
    upgrade,
)
from origin.db.transactions import (
    begin_write,
    read_transaction,
    single_read,
    write_transaction,
)

__all__ = [
    "DatabaseNotMigrated",
    "begin_write",
    "create_engine",
    "current_revision",
    "ensure_migrated",
    "head_revision",
    "metadata",
    "read_transaction",
    "session_factory",
    "single_read",
    "upgrade",
    "write_transaction",
]
