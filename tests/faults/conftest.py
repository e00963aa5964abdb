"""Fixtures for the fault tests: servers of the test's own that it may stop, kill or starve.

A fault the machine cannot provoke (no PostgreSQL binaries, no right to mount a filesystem)
skips with the reason on a developer's machine and fails in CI (``CI=true``), like the service
fixtures in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import service_missing
from tests.support.postgres_server import PostgresServer, PostgresUnavailable, find_binaries


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server only this test uses, so it can be stopped and restarted."""
    try:
        server = PostgresServer(find_binaries())
        server.initialise()
        server.start()
    except PostgresUnavailable as error:
        service_missing("private postgres", "initdb/pg_ctl", error)
        raise AssertionError("unreachable: service_missing skips or fails") from error
    try:
        yield server
    finally:
        server.remove()
