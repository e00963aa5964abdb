"""The PostgreSQL pool checks a connection only where it pays: after idle time, or after an
error; a single-statement read is sent without a transaction. Watched on the wire."""

from __future__ import annotations

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from origin.db import create_engine, session_factory, single_read
from origin.db import engine as engine_module
from tests.support.pg_wire import wire_tap

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)]),
]


async def _terminate_other_backends(database_url: str) -> None:
    """What a database restart does to the pool's connections: they are dropped server-side."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()


async def test_a_warm_checkout_costs_no_round_trip_and_a_single_read_no_transaction(
    database_url: str,
) -> None:
    async with wire_tap(database_url) as tap:
        engine = create_engine(tap.url)
        sessions = session_factory(engine)
        try:
            for _ in range(2):  # the first prepares the statement: measure the second
                async with sessions() as session, single_read(session) as connection:
                    tap.reset()
                    assert (await connection.execute(sa.text("SELECT 1"))).scalar() == 1
            assert tap.round_trips == 1, tap.messages
            assert tap.messages["Q"] == 0  # no BEGIN, no ROLLBACK, no ping
        finally:
            await engine.dispose()


async def test_an_idle_connection_is_pinged_and_replaced_when_dead(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
        await _terminate_other_backends(database_url)
        monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING_SECONDS", 0.0)
        async with engine.connect() as connection:
            assert (await connection.execute(sa.text("SELECT 2"))).scalar() == 2
    finally:
        await engine.dispose()


async def test_a_connection_found_dead_fails_once_then_the_pool_recovers(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=3)
    try:
        async with engine.connect() as a, engine.connect() as b:  # two pooled connections
            await a.execute(sa.text("SELECT 1"))
            await b.execute(sa.text("SELECT 1"))
        await _terminate_other_backends(database_url)
        with pytest.raises(DBAPIError) as failed:
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        assert failed.value.connection_invalidated
        # The error invalidated the whole pool: the other stale connection is not handed out.
        for _ in range(3):
            async with engine.connect() as connection:
                assert (await connection.execute(sa.text("SELECT 3"))).scalar() == 3
    finally:
        await engine.dispose()
