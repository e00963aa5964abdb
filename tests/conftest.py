"""Fixtures for the real services the suite talks to: PostgreSQL and Redis.

Each is taken from ``TEST_POSTGRES_URL`` / ``TEST_REDIS_URL`` (defaults: the local services on
their standard ports). Where a service does not answer, its tests skip with the reason on a
developer's machine, and fail in CI (``CI=true``), where a missing service is a broken setup.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer

pytest_plugins = ["tests.support.databases"]

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def service_missing(name: str, url: str, error: BaseException) -> None:
    """Skip (developer machine) or fail (CI) because a service the test needs is not there."""
    message = f"{name} at {url} did not answer ({error.__class__.__name__}: {error})"
    if IN_CI:
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(f"{message}; start it or set TEST_{name.upper()}_URL")


async def _create_database(admin_url: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
async def postgres_url(anyio_backend: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"outpost_test_{secrets.token_hex(6)}"
    try:
        await _create_database(POSTGRES_URL, name)
    except (OSError, Exception) as error:  # asyncpg raises its own errors for auth/refusal
        service_missing("postgres", POSTGRES_URL, error)
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        await _drop_database(POSTGRES_URL, name)


@pytest.fixture
def redis_url() -> str:
    """The Redis service's URL, after checking that it answers."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        service_missing("redis", REDIS_URL, error)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server only this test uses, so it can be killed, frozen and restarted (the
    shared Redis never goes down under other tests)."""
    executable = shutil.which("redis-server")
    if executable is None:
        service_missing("redis-server", "PATH", FileNotFoundError("redis-server is not installed"))
        raise AssertionError("unreachable: service_missing skips or fails")
    server = RedisServer(executable, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_prefix() -> str:
    """A key namespace of its own, so tests (and parallel runs) never see each other's keys."""
    return f"outpost-test:{secrets.token_hex(6)}:"
