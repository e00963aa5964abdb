"""The async engine and session factory, tuned per backend.

SQLite (the embedded default) needs three things a bare engine does not give it:

- WAL, so readers never wait for the writer; ``synchronous=NORMAL``, safe with WAL and much
  cheaper than FULL; ``foreign_keys=ON``, off by default in SQLite; ``busy_timeout``, so a
  connection that finds the write lock taken waits for it instead of failing at once.
- Real transactions. The ``sqlite3`` driver only starts a transaction before INSERT/UPDATE/DELETE,
  so a SELECT followed by a write would not be atomic. We switch the driver's own transaction
  handling off and emit BEGIN ourselves when SQLAlchemy begins (the recipe in SQLAlchemy's SQLite
  documentation, "Enabling Non-Legacy SQLite Transactional Modes").
- Write transactions that queue. A deferred transaction that reads and then writes must upgrade
  its lock; if another connection wrote meanwhile SQLite fails it with "database is locked"
  without waiting. A transaction marked as a writer (:mod:`origin.db.transactions`) begins with
  ``BEGIN IMMEDIATE`` instead, which takes the write lock up front (waiting up to
  ``busy_timeout``), so racing writers run one after the other. Read-only work keeps plain
  ``BEGIN`` and is never serialised.

PostgreSQL's pool checks a connection only where a check can pay for itself. SQLAlchemy's
``pool_pre_ping`` costs three round trips on every checkout (BEGIN, a ping, ROLLBACK with
asyncpg), more than the query a read then sends. Instead:

- a connection that sat idle in the pool for :data:`IDLE_BEFORE_PING_SECONDS` is pinged when
  checked out and replaced if dead (a server or proxy idle timeout, a failover during a quiet
  spell);
- a connection found dead by a query (the database restarted under load) fails that query, and
  SQLAlchemy then invalidates every connection older than the error, so the following requests
  get fresh ones instead of failing one stale connection at a time;
- every connection is recycled after half an hour, before common idle timeouts.

There a write transaction is a plain BEGIN.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.settings import DEFAULT_DB_MAX_OVERFLOW, DEFAULT_DB_POOL_SIZE, normalise_database_url

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_LOCK_RETRY_SECONDS = 0.005
# Connection execution option that marks a transaction as a writer (see transactions.begin_write).
WRITE_TRANSACTION = "outpost_write_transaction"
# Connection execution option: the "transaction" is one statement, which SQLite runs atomically on
# its own, so no BEGIN is sent (see transactions.single_read).
SINGLE_STATEMENT = "outpost_single_statement"
# A pooled connection idle this long is pinged before use (see the module's documentation).
IDLE_BEFORE_PING_SECONDS = 10.0
_IDLE_SINCE = "outpost_idle_since"


def create_engine(
    database_url: str,
    *,
    pool_size: int = DEFAULT_DB_POOL_SIZE,
    max_overflow: int = DEFAULT_DB_MAX_OVERFLOW,
    echo: bool = False,
) -> AsyncEngine:
    """The engine for a ``sqlite://`` or ``postgresql://`` URL (async driver added here).

    At most ``pool_size`` connections stay open, ``max_overflow`` more while demand exceeds them
    (the app passes ``OUTPOST_DB_POOL_SIZE`` and ``OUTPOST_DB_MAX_OVERFLOW``); beyond that a
    checkout waits for a connection to come back."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size=pool_size, max_overflow=max_overflow, echo=echo)
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # Recycle before common server/proxy idle timeouts (PgBouncer, cloud load balancers).
        pool_recycle=1800,
        echo=echo,
    )
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: AsyncEngine) -> None:
    """Ping a connection at checkout only when it has been idle long enough to have died."""
    dialect = engine.sync_engine.dialect

    def returned(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out another (a new one if need be).
            raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error

    event.listen(engine.sync_engine, "checkin", returned)
    event.listen(engine.sync_engine, "checkout", checked_out)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (async cannot reload them implicitly)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def _sqlite_file(url: URL) -> Path | None:
    """The database file a SQLite URL names; None for in-memory and ``file:`` URI databases."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_engine(url: URL, *, pool_size: int, max_overflow: int, echo: bool) -> AsyncEngine:
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, echo=echo)
    else:  # the dialect picks the pool (one shared connection for a plain in-memory database)
        engine = create_async_engine(url, echo=echo)
    event.listen(engine.sync_engine, "connect", configure_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
    return engine


def configure_sqlite_connection(dbapi_connection: Any, connection_record: Any = None) -> None:
    """Set up a new driver connection to a SQLite file as the module docstring says (the engine's
    ``connect`` listener)."""
    # None = the driver never emits BEGIN itself; _begin_sqlite_transaction does.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        _switch_to_write_ahead_log(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _switch_to_write_ahead_log(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, waiting for other connections as ``busy_timeout`` would.

    The switch (made once per file, a no-op after) reads the file, then needs it to itself. Two
    connections making it at the same moment, as two processes opening a new database do, each
    hold the read lock the other must wait out; SQLite breaks that deadlock by failing one of
    them at once with "database is locked", busy handler or not. The failed statement has let
    its lock go, so trying again is what waiting would have done."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(SQLITE_LOCK_RETRY_SECONDS)


def _begin_sqlite_transaction(connection: Connection) -> None:
    options = connection.get_execution_options()
    if options.get(SINGLE_STATEMENT, False):
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_TRANSACTION) else "BEGIN")
