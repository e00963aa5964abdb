"""What the error handlers answer for failures route code did not turn into errors itself."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from origin.db.types import utcnow
from origin.errors import EXCEPTION_HANDLERS
from origin.identity.models import USER_ACCOUNTS
from tests.origin.middleware.apps import client_for

pytestmark = pytest.mark.anyio


def inserting_app(engine: AsyncEngine) -> Starlette:
    """A route that inserts one account row per call, with a plain INSERT: the second call is
    refused by the UNIQUE constraint on the address, as a write that lost a race would be."""

    async def insert_account(request: Request) -> Response:
        async with engine.begin() as connection:
            await connection.execute(
                insert(USER_ACCOUNTS).values(
                    subject=f"usr_{request.query_params['subject']}",
                    email="taken@example.com",
                    password_hash="x",
                    roles="",
                    created_at=utcnow(),
                )
            )
        return Response(status_code=201)

    route = Route("/accounts", insert_account, methods=["POST"])
    return Starlette(routes=[route], exception_handlers=EXCEPTION_HANDLERS)


async def test_a_constraint_the_database_enforces_is_a_json_409_that_quotes_nothing(
    engine: AsyncEngine,
) -> None:
    async with client_for(inserting_app(engine)) as client:
        first = await client.post("/accounts?subject=one")
        second = await client.post("/accounts?subject=two")

    assert (first.status_code, second.status_code) == (201, 409)
    assert second.json()["error"]["code"] == "conflict"
    assert "taken@example.com" not in second.text  # the constraint's text stays in the log
    assert "uq_" not in second.text


class DriverError(Exception):
    """What a PostgreSQL driver raises: the server's SQLSTATE on the exception."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"server said {sqlstate}")
        self.sqlstate = sqlstate


def raising_app(error: Exception) -> Starlette:
    async def fail(request: Request) -> Response:
        raise error

    return Starlette(routes=[Route("/", fail)], exception_handlers=EXCEPTION_HANDLERS)


def sqlite_full() -> DBAPIError:
    driver = sqlite3.OperationalError("database or disk is full")
    driver.sqlite_errorcode = sqlite3.SQLITE_FULL
    return OperationalError("INSERT ...", {}, driver)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        # PostgreSQL going away or coming back: a restart, a failover (generic DBAPI errors).
        (DBAPIError("SELECT 1", {}, DriverError("57P01")), 503, "database_unavailable"),
        (DBAPIError("SELECT 1", {}, DriverError("57P03")), 503, "database_unavailable"),
        (DBAPIError("SELECT 1", {}, DriverError("08003")), 503, "database_unavailable"),
        # The disk, not the request: SQLite's SQLITE_FULL, PostgreSQL's disk_full.
        (sqlite_full(), 503, "storage_full"),
        (DBAPIError("INSERT ...", {}, DriverError("53100")), 503, "storage_full"),
        # Anything else a driver reports is a bug in our SQL: no details leave.
        (DBAPIError("SELECT 1", {}, DriverError("42601")), 500, "internal_error"),
    ],
)
async def test_database_errors_are_answered_by_their_cause(
    error: Exception, status: int, code: str
) -> None:
    async with client_for(raising_app(error)) as client:
        response = await client.get("/")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    if status == 503:
        assert int(response.headers["retry-after"]) >= 1
    assert "SELECT" not in response.text
    assert "INSERT" not in response.text
