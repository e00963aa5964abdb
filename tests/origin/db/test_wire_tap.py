"""The PostgreSQL wire tap the round-trip budgets rely on counts what it should."""

from __future__ import annotations

import asyncpg
import pytest

from tests.support.pg_wire import wire_tap

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)]),
]


async def test_each_statement_and_each_transaction_boundary_is_one_round_trip(
    database_url: str,
) -> None:
    async with wire_tap(database_url) as tap:
        connection = await asyncpg.connect(tap.url.replace("?ssl=disable", ""), ssl=False)
        try:
            await connection.fetchval("SELECT 1")  # prepares: Parse/Describe, then Bind/Execute
            tap.reset()
            assert await connection.fetchval("SELECT 1") == 1
            assert tap.round_trips == 1
            tap.reset()
            async with connection.transaction():
                await connection.fetchval("SELECT 1")
            assert tap.round_trips == 3  # BEGIN, the statement, COMMIT
            assert tap.messages["Q"] == 2
        finally:
            await connection.close()
