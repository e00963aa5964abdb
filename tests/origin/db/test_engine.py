"""The engine: SQLite tuned for concurrent use, PostgreSQL reached from a plain URL, sessions."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db import (
    begin_write,
    create_engine,
    session_factory,
    single_read,
    write_transaction,
)
from origin.db.engine import configure_sqlite_connection
from origin.db.types import UTCDateTime
from origin.demo.models import Product  # template:demo

pytestmark = pytest.mark.anyio

COUNTERS = sa.Table(
    "counters",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)
MOMENTS = sa.Table(
    "moments",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
)


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'engine.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(COUNTERS.create)
        await connection.execute(sa.insert(COUNTERS).values(id=1, value=0))
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(
    sqlite_engine: AsyncEngine,
) -> None:
    pragmas = ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
    # Several pooled connections at once: the settings must hold on each, not just the first.
    connections = [await sqlite_engine.connect() for _ in range(3)]
    try:
        for connection in connections:
            values = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar() for name in pragmas
            ]
            assert values == ["wal", 1, 5000, 1]  # synchronous 1 = NORMAL
    finally:
        for connection in connections:
            await connection.close()


def test_connections_opening_a_new_sqlite_file_at_once_all_switch_it_to_wal(
    tmp_path: Path,
) -> None:
    """Two `db upgrade`s, or several workers, opening a new database: each switch to WAL waits
    its turn instead of failing "database is locked" (SQLite fails one of two connections that
    switch at the same moment without calling its busy handler: they would deadlock).

    Driver connections on their own threads, as from separate processes, are set up together
    on a file in SQLite's default rollback-journal mode, as a new database is; without the wait
    about one attempt in ten failed."""
    for attempt in range(40):
        path = tmp_path / f"new-{attempt}.db"
        with closing(sqlite3.connect(path)) as first:
            first.execute("CREATE TABLE earlier (id INTEGER)")

        assert set_up_together(path, connections=8) == []
        with closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def set_up_together(path: Path, connections: int) -> list[sqlite3.Error]:
    """Open ``connections`` driver connections on their own threads, then set them all up at
    the same moment; what failed."""
    together = threading.Barrier(connections)
    failures: list[sqlite3.Error] = []

    def set_up() -> None:
        with closing(sqlite3.connect(path, check_same_thread=False)) as connection:
            together.wait(timeout=10)
            try:
                configure_sqlite_connection(connection)
            except sqlite3.Error as error:
                failures.append(error)

    threads = [threading.Thread(target=set_up) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


async def test_sqlite_database_directory_is_created_when_missing(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT 1")).scalar() == 1
    finally:
        await engine.dispose()

    assert path.is_file()


async def test_racing_sqlite_write_transactions_queue_instead_of_failing(
    sqlite_engine: AsyncEngine,
) -> None:
    """Read-then-write from many sessions at once: none fails "database is locked", none is lost."""
    sessions = session_factory(sqlite_engine)

    async def increment() -> None:
        async with sessions() as session, write_transaction(session) as connection:
            select_value = sa.select(COUNTERS.c.value).where(COUNTERS.c.id == 1)
            value = (await connection.execute(select_value)).scalar_one()
            await asyncio.sleep(0.005)  # widen the window between read and write
            await connection.execute(sa.update(COUNTERS).values(value=value + 1))

    await asyncio.gather(*(increment() for _ in range(12)))

    async with sqlite_engine.connect() as connection:
        assert (await connection.execute(sa.select(COUNTERS.c.value))).scalar_one() == 12


async def test_sqlite_readers_are_not_blocked_by_an_open_write_transaction(
    sqlite_engine: AsyncEngine,
) -> None:
    sessions = session_factory(sqlite_engine)
    async with sessions() as writer, write_transaction(writer) as connection:
        await connection.execute(sa.update(COUNTERS).values(value=41))
        started = time.perf_counter()
        async with sessions() as reader:
            read = await reader.connection()
            value = (await read.execute(sa.select(COUNTERS.c.value))).scalar_one()
        waited = time.perf_counter() - started

    assert value == 0  # the writer's change is not committed yet
    assert waited < 1.0  # far below the 5 s busy timeout: the reader did not queue


async def test_a_single_read_on_sqlite_sends_no_begin_and_a_write_still_begins_immediate(
    sqlite_engine: AsyncEngine,
) -> None:
    """Each statement SQLite runs outside BEGIN is atomic on its own; leaving BEGIN out of a
    one-statement read saves its calls to the driver's thread."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        sent.append(statement)

    sa.event.listen(sqlite_engine.sync_engine, "before_cursor_execute", record)
    sessions = session_factory(sqlite_engine)
    async with sessions() as session:
        async with single_read(session) as connection:
            value = (await connection.execute(sa.select(COUNTERS.c.value))).scalar_one()
        read = list(sent)
        async with write_transaction(session) as connection:
            await connection.execute(sa.update(COUNTERS).values(value=value + 1))

    assert [statement.split()[0] for statement in read] == ["SELECT"]
    assert sent[len(read) :][:1] == ["BEGIN IMMEDIATE"]
    async with sqlite_engine.connect() as connection:
        assert (await connection.execute(sa.select(COUNTERS.c.value))).scalar_one() == 1


async def test_a_write_transaction_must_start_the_sessions_transaction(
    sqlite_engine: AsyncEngine,
) -> None:
    async with session_factory(sqlite_engine)() as session:
        await (await session.connection()).execute(sa.select(1))

        with pytest.raises(RuntimeError, match="already open"):
            await begin_write(session)


async def test_a_failed_write_transaction_is_rolled_back(sqlite_engine: AsyncEngine) -> None:
    sessions = session_factory(sqlite_engine)

    async def fail_after_writing() -> None:
        async with sessions() as session, write_transaction(session) as connection:
            await connection.execute(sa.update(COUNTERS).values(value=99))
            raise LookupError("something went wrong after the write")

    with pytest.raises(LookupError):
        await fail_after_writing()

    async with sessions() as session:
        value = (await (await session.connection()).execute(sa.select(COUNTERS.c.value))).scalar()
    assert value == 0


async def test_plain_database_urls_get_the_async_driver(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT 1")).scalar() == 1
    finally:
        await engine.dispose()

    expected = "asyncpg" if database_url.startswith("postgresql://") else "aiosqlite"
    assert engine.dialect.driver == expected


async def test_objects_stay_readable_after_their_session_commits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # template:no-demo: from origin.identity.models import UserAccount
    async with sessions() as session:
        # template:demo-begin
        row = Product(sku="MUG-1", name="Mug", category="mugs", price_cents=900, stock=3)
        # template:demo-end
        # template:no-demo: row = UserAccount(subject="s", email="a@example.com", password_hash="x")
        session.add(row)
        await session.commit()

    # An expired attribute would need a lazy reload, which async sessions cannot do implicitly.
    assert (row.id, row.name, row.version) == (1, "Mug", 1)  # template:demo
    # template:no-demo: assert (row.id, row.email) == (1, "a@example.com")


async def test_timestamps_come_back_as_the_same_aware_utc_instant(database_url: str) -> None:
    engine = create_engine(database_url)
    paris = timezone(timedelta(hours=1))
    stored = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=paris)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(MOMENTS.create)
            await connection.execute(sa.insert(MOMENTS).values(id=1, at=stored))
        async with engine.connect() as connection:
            loaded = (await connection.execute(sa.select(MOMENTS.c.at))).scalar_one()
    finally:
        await engine.dispose()

    assert loaded == stored
    assert loaded.tzinfo == UTC
    assert loaded.hour == 11


async def test_naive_timestamps_are_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'naive.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(MOMENTS.create)
            with pytest.raises(sa.exc.StatementError, match="naive datetime"):
                await connection.execute(sa.insert(MOMENTS).values(id=1, at=datetime(2025, 1, 1)))
    finally:
        await engine.dispose()
