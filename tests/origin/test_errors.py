"""What the error handlers answer for failures route code did not turn into errors itself."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
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
