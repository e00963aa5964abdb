"""Scratch databases for benchmark runs, on the machine's PostgreSQL (``TEST_POSTGRES_URL``, the
test suite's; default ``postgresql://127.0.0.1:5432/test``, used only to create and drop them).

    with fresh_database("outpost_bench") as url:
        ...  # url names an empty database, dropped when the block ends
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


class PostgresUnreachable(RuntimeError):
    """The machine's PostgreSQL did not answer."""


@contextmanager
def fresh_database(name: str) -> Iterator[str]:
    """An empty database called ``name``, dropped afterwards (with what a previous, killed run may
    have left under the same name)."""
    admin_base, _, _ = POSTGRES_URL.rpartition("/")
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    try:
        asyncio.run(_admin(drop, f'CREATE DATABASE "{name}"'))
    except OSError as error:
        raise PostgresUnreachable(f"cannot reach PostgreSQL at {POSTGRES_URL}: {error}") from None
    try:
        yield f"{admin_base}/{name}"
    finally:
        asyncio.run(_admin(drop))


async def _admin(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()
