"""Alembic environment: migrate the connection that :mod:`origin.db.migrate` hands over.

``origin.db.migrate`` opens the connection, starts the transaction and takes the migration lock;
this script only points Alembic at it and at the full table metadata. SQLite runs in batch mode
because it cannot ALTER most things in place (Alembic copies the table instead).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from origin.db.tables import load_tables


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=load_tables(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError(
        "run migrations through origin.db.migrate (`outpost db upgrade`), which provides the "
        "database connection; there is no alembic.ini"
    )
run_migrations(_connection)
