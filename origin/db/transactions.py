"""Units of work on an ``AsyncSession``: write transactions that begin, commit or roll back.

Write transactions are started with :func:`begin_write` so that, on SQLite, they take the write
lock before their first read (``BEGIN IMMEDIATE``): two transactions that each read then write
queue one behind the other instead of one failing with "database is locked" (see
:mod:`origin.db.engine`). On PostgreSQL it is an ordinary transaction.

A read that is a single statement needs no transaction around it: the statement is atomic and
sees one snapshot on its own. :func:`single_read` sends it without ``BEGIN`` and ``ROLLBACK``:
two round trips of the three it would otherwise cost on PostgreSQL; on SQLite, the ``BEGIN``'s
trips to the driver's thread (aiosqlite runs every call there and wakes the event loop for each
answer), three of the eight such a read would otherwise make.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db.engine import SINGLE_STATEMENT, WRITE_TRANSACTION


async def begin_write(session: AsyncSession) -> AsyncConnection:
    """Start ``session``'s transaction as a write transaction; its connection is returned.

    Call it before the transaction's first statement: a transaction that is already open cannot
    change how it began, so that is reported as the programming error it is.
    """
    if session.in_transaction():
        raise RuntimeError(
            "begin_write() must start the session's transaction, but one is already open; "
            "commit or roll back first"
        )
    return await session.connection(execution_options={WRITE_TRANSACTION: True})


@asynccontextmanager
async def write_transaction(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    connection = await begin_write(session)
    try:
        yield connection
    except BaseException:
        await session.rollback()
        raise
    await session.commit()


@asynccontextmanager
async def read_transaction(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    """Reads in one snapshot; joins the session's open transaction if there is one.

    A transaction this function starts is ended when the block does, so the session is free
    for a following :func:`write_transaction` and the connection goes back to the pool early.
    """
    if session.in_transaction():
        yield await session.connection()
        return
    connection = await session.connection()
    try:
        yield connection
    finally:
        await session.rollback()  # nothing to keep: ends the snapshot, releases the connection


@asynccontextmanager
async def single_read(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    """A connection for a read of exactly one statement, outside any transaction.

    Joins the session's open transaction if there is one. PostgreSQL runs the statement in
    autocommit; on SQLite, whose driver's transactions are begun by hand (see
    :mod:`origin.db.engine`), the ``BEGIN`` is left out, which is autocommit there.
    """
    if session.in_transaction():
        async with read_transaction(session) as joined:
            yield joined
        return
    sqlite = session.get_bind().dialect.name == "sqlite"
    # Not AUTOCOMMIT on SQLite: setting it and restoring it would cost more driver calls than
    # the BEGIN it saves.
    options = {SINGLE_STATEMENT: True} if sqlite else {"isolation_level": "AUTOCOMMIT"}
    connection = await session.connection(execution_options=options)
    try:
        yield connection
    finally:
        await session.rollback()  # nothing was begun: only gives the connection back
