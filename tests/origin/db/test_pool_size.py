"""The database pool is as large as the settings say, and no larger, however many requests wait.

Counted where it matters, on the server: ``pg_stat_activity`` rows of the test's own database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from origin.app import create_app
from origin.services import Services
from origin.settings import Settings
from tests.origin.conftest import running

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)]),
]


class ConnectionCount:
    """The most connections to one database seen at once while :meth:`watching`."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self.peak = 0

    @asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        monitor = await asyncpg.connect(self._url)
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                count = await monitor.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                self.peak = max(self.peak, count)
                await asyncio.sleep(0.005)

        sampler = asyncio.create_task(sample())
        try:
            yield
        finally:
            stop.set()
            await sampler
            await monitor.close()


def _settings(database_url: str, tmp_path: Path, **variables: str) -> Settings:
    return Settings.from_mapping(
        {"OUTPOST_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url, **variables}
    )


def _services(app: Starlette) -> Services:
    found: Services = app.state.services
    return found


async def test_the_pool_settings_reach_the_engine_and_cap_its_server_connections(
    migrated_url: str, tmp_path: Path
) -> None:
    settings = _settings(
        migrated_url, tmp_path, OUTPOST_DB_POOL_SIZE="2", OUTPOST_DB_MAX_OVERFLOW="1"
    )
    app = create_app(settings)
    connections = ConnectionCount(migrated_url)
    async with running(app):
        engine = _services(app).engine
        assert engine.pool.size() == 2  # type: ignore[attr-defined]

        async def slow_statement() -> None:
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT pg_sleep(0.2)"))

        async with connections.watching():
            await asyncio.gather(*(slow_statement() for _ in range(9)))
    # Nine statements that each hold their connection for 0.2 s: three at a time, never a fourth.
    assert connections.peak == 3


async def test_concurrent_requests_queue_for_a_small_pool_instead_of_failing(
    migrated_url: str, tmp_path: Path
) -> None:
    settings = _settings(
        migrated_url, tmp_path, OUTPOST_DB_POOL_SIZE="1", OUTPOST_DB_MAX_OVERFLOW="0"
    )
    connections = ConnectionCount(migrated_url)
    async with running(create_app(settings)) as client, connections.watching():
        # /readyz checks out a connection for a SELECT 1 on every call.
        answers = await asyncio.gather(*(client.get("/readyz") for _ in range(24)))
    assert [answer.status_code for answer in answers] == [200] * 24
    assert connections.peak == 1
