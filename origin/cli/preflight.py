"""Checks a verb makes before it serves or changes anything: the database, the keys, Redis.

Each asks once, with a short timeout, what the server's start-up would otherwise find out inside
Hypercorn's lifespan (where a failure prints a long traceback) or after a driver's own long
timeout (asyncpg waits 60 s for a server that does not answer). A failure is a
:class:`~shared.cli.failures.CommandFailed` naming the cause and what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from origin.cli.failures import database_failure, keyring_failure
from origin.settings import Settings
from shared.cli.failures import reason_of

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

DATABASE_TIMEOUT_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 1.0


def require_database(database_url: str, *, migrated: bool = False) -> None:
    """Return when the database answers (and, with ``migrated``, is at the code's revision);
    CommandFailed otherwise, or DatabaseNotMigrated saying what to run."""
    asyncio.run(_open_database(database_url, migrated=migrated))


async def _open_database(database_url: str, *, migrated: bool) -> None:
    from origin.db.engine import create_engine
    from origin.db.migrate import ensure_migrated

    try:
        engine = create_engine(database_url, pool_size=1, max_overflow=0)  # SQLite: makes its dir
        try:
            if engine.dialect.name == "sqlite":
                _open_sqlite_file(engine.url.database)
            else:
                await _connect(engine)
        finally:
            await engine.dispose()
    except Exception as error:
        failure = database_failure(error, database_url, DATABASE_TIMEOUT_SECONDS)
        if failure is None:
            raise
        raise failure from None
    if migrated:
        engine = create_engine(database_url, pool_size=1, max_overflow=0)
        try:
            await ensure_migrated(engine)
        finally:
            await engine.dispose()


async def _connect(engine: AsyncEngine) -> None:
    from sqlalchemy import text

    async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


def _open_sqlite_file(database: str | None) -> None:
    """Open the file with the standard library's driver: aiosqlite's worker thread, after a
    failed open, may call back into an event loop that has closed and print a traceback."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with contextlib.closing(sqlite3.connect(database)) as connection:
        # Reads the header (is it a database?) and needs write access, as the origin does.
        connection.execute("PRAGMA journal_mode=WAL")


def require_keyring(settings: Settings) -> Path | None:
    """Make sure the signing keys can be read (outside production, create them when there are
    none, as the origin does at start); the path of a keyring made now."""
    from origin.identity.keyring_file import ensure_dev_keyring, keyring_source

    try:
        created = ensure_dev_keyring(settings)
        keyring_source(settings).keyring()  # KeyringError (a bad setting) says what is wrong
    except OSError as error:
        raise keyring_failure(error, settings.signing_keys_path) from None
    return created


def redis_warning(settings: Settings) -> str | None:
    """One line saying that Redis does not answer and how the origin runs without it; None when
    it answers or is not configured. Not a failure: the origin degrades by design."""
    if settings.redis_url is None:
        return None
    reason = asyncio.run(_redis_problem(settings.redis_url))
    if reason is None:
        return None
    return (
        f"Redis at {_redis_address(settings.redis_url)} does not answer ({reason}); serving "
        "degraded until it does (cache reads miss, rate limits fail open, assertion nonces are "
        "checked per process): start Redis, or fix REDIS_URL"
    )


async def _redis_problem(redis_url: str) -> str | None:
    from origin.kv import RedisStore, StoreUnavailable

    store = RedisStore(
        redis_url,
        prefix="",
        connect_timeout_seconds=REDIS_TIMEOUT_SECONDS,
        timeout_seconds=REDIS_TIMEOUT_SECONDS,
    )
    try:
        await store.ping()
    except StoreUnavailable as error:
        return reason_of(error)
    finally:
        await store.aclose()
    return None


def _redis_address(redis_url: str) -> str:
    """Where Redis is, without the password a URL may hold."""
    from urllib.parse import urlsplit

    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
