"""Apply and check schema migrations (Alembic, configured in code: no ``alembic.ini``).

The origin refuses to serve a database whose schema is not at the code's head revision
(:func:`ensure_migrated`); migrating is an explicit step (``outpost db upgrade``), never a side
effect of starting a server, so that several replicas starting together do not race to ALTER
the same tables.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from origin.db.engine import WRITE_TRANSACTION, create_engine
from origin.db.renumbered import OLD_REVISIONS, renumber

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
UPGRADE_COMMAND = "outpost db upgrade"
# Any constant will do; it only has to be the same for every process migrating this database.
_POSTGRES_MIGRATION_LOCK = 0x6F7574706F7374  # "outpost"


class DatabaseNotMigrated(RuntimeError):
    """The database schema is not at the revision this code was written for."""

    def __init__(self, current: str | None, head: str, known: bool) -> None:
        self.current = current
        self.head = head
        if current is None:
            # No revision named: the upgrade applies them all, whatever the head is called.
            message = (
                f"the database has no schema yet (no migration applied): run `{UPGRADE_COMMAND}`"
            )
        elif known:
            message = (
                f"the database is at revision {current} but this code needs revision {head}: "
                f"run `{UPGRADE_COMMAND}`"
            )
        else:
            message = (
                f"the database is at revision {current}, which this code does not know (was it "
                f"migrated by a newer release?); this code needs revision {head}: deploy the "
                f"release that matches the database, or downgrade it with that release"
            )
        super().__init__(message)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, pointing at the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision in the migrations directory (what the models are written against)."""
    head = _scripts().get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or ``None`` when no migration was ever applied."""
    async with engine.connect() as connection:
        return await connection.run_sync(_read_revision)


async def ensure_migrated(engine: AsyncEngine) -> None:
    """Raise :class:`DatabaseNotMigrated` unless the database is at :func:`head_revision`."""
    current = await current_revision(engine)
    head = head_revision()
    if current != head:
        # An old revision id (before the renumbering) is one `outpost db upgrade` carries on from.
        known = current is not None and (current in OLD_REVISIONS or _known(current))
        raise DatabaseNotMigrated(current, head, known=known)


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` up to ``revision`` in one transaction.

    A database at a revision id from before the renumbering (:mod:`origin.db.renumbered`) is
    brought onto the current chain first. Concurrent upgrades of the same database serialise
    (SQLite's write lock, a PostgreSQL advisory lock), so the second finds the work done instead
    of failing half-way.
    """
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            writer = await connection.execution_options(**{WRITE_TRANSACTION: True})
            await writer.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:  # Alembic's answer for a revision id it cannot find
        return False


def _read_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch migrations rebuild a table by copying it and dropping the original; with foreign
        # keys enforced, that drop would cascade into (or be refused by) referencing tables. The
        # pragma is ignored inside a transaction, so it is set first, on the driver connection.
        _sqlite_pragma(connection, "foreign_keys=OFF")
    try:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK}
                )
            renumber(connection, _scripts())
            command.upgrade(alembic_config(connection), revision)
            if sqlite:
                _check_sqlite_foreign_keys(connection)
    finally:
        if sqlite:
            _sqlite_pragma(connection, "foreign_keys=ON")


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:10]}")
