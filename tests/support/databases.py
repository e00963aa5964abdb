"""Fixtures that run a test once per supported database: SQLite (a file) and PostgreSQL.

Registered for the whole suite by ``pytest_plugins`` in tests/conftest.py.

- ``database_url``: an empty database (no schema), new for each test.
- ``migrated_url``: a database at the head revision with empty tables, prepared once per test
  session: SQLite tests get a copy of a migrated file; PostgreSQL tests share one migrated
  database whose tables are emptied before each test (creating and dropping a PostgreSQL
  database costs ~1 s, emptying a few tables ~10 ms). Tests that change the schema itself must
  build on ``database_url`` instead.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db import create_engine, session_factory, upgrade
from origin.db.tables import load_tables
from tests.conftest import POSTGRES_URL, service_missing

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a new PostgreSQL database (dropped afterwards)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'outpost.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def shared_postgres_url() -> Iterator[str]:
    """One PostgreSQL database for the whole session, migrated to head once."""
    name = f"outpost_test_shared_{secrets.token_hex(6)}"

    async def admin(statement: str) -> None:
        engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql(statement)
        finally:
            await engine.dispose()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, sa.exc.SQLAlchemyError) as error:
        service_missing("postgres", POSTGRES_URL, error)
    url = f"{POSTGRES_URL.rpartition('/')[0]}/{name}"
    try:
        asyncio.run(upgrade(url))
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file migrated to head once per session, copied by each test."""
    path = tmp_path_factory.mktemp("migrated") / "outpost.db"
    asyncio.run(upgrade(f"sqlite:///{path}"))
    return path


@pytest.fixture
def _migration_target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Synchronous on purpose: the session fixtures behind it run their own event loop, which
    # they cannot do from inside the test's running loop.
    if backend == "sqlite":
        path = tmp_path / "data" / "outpost.db"
        path.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("shared_postgres_url")
    return url


@pytest.fixture
async def migrated_url(backend: str, _migration_target: str) -> str:
    """A database at the head revision whose tables are empty (identities restarted)."""
    if backend == "postgres":
        await _empty_tables(_migration_target)
    return _migration_target


async def _empty_tables(url: str) -> None:
    # DELETE, not TRUNCATE: on tables this small it is ~10x faster (TRUNCATE swaps files).
    tables = load_tables().sorted_tables
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as connection:
            for table in reversed(tables):
                await connection.execute(sa.delete(table))
            for table in tables:
                column = table.autoincrement_column
                if column is not None:
                    await connection.execute(
                        sa.text("SELECT setval(pg_get_serial_sequence(:table, :column), 1, false)"),
                        {"table": table.name, "column": column.name},
                    )
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session
