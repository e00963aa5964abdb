"""The identity routes refuse every hostile value (tests/data/hostile) with a 4xx JSON error,
on SQLite and PostgreSQL: sign-in names and addresses reach the database, where a NUL byte was a
500 on PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from tests.origin.conftest import Caller
from tests.origin.hostile import Slot, nesting_problems, slot_problems

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery staple"
REGISTER = {"email": "ada@example.com", "password": PASSWORD}
SIGN_IN = {"grant_type": "password", "username": "ada@example.com", "password": PASSWORD}
REFRESH = {"grant_type": "refresh_token", "refresh_token": "rt_" + "a" * 43}

IN_AN_ADDRESS = "ada{}@example.com"

SLOTS = [
    Slot("POST", "/auth/register", "json", "email", "text", REGISTER, embed=IN_AN_ADDRESS),
    Slot("POST", "/auth/register", "json", "password", "text", REGISTER),
    *(
        Slot("POST", "/auth/token", where, "username", "text", SIGN_IN, embed=IN_AN_ADDRESS)
        for where in ("form", "json")
    ),
    *(
        Slot("POST", "/auth/token", where, "password", "text", SIGN_IN)
        for where in ("form", "json")
    ),
    *(
        Slot("POST", path, where, "refresh_token", "text", REFRESH)
        for path in ("/auth/token", "/auth/refresh")
        for where in ("form", "json")
    ),
]


@pytest.mark.parametrize("slot", SLOTS, ids=str)
async def test_every_hostile_value_is_refused_with_a_json_4xx(
    unthrottled_client: httpx.AsyncClient, caller: Caller, slot: Slot
) -> None:
    problems = await slot_problems(unthrottled_client, caller, slot)

    assert not problems, f"{slot} on hostile input:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", ["/auth/register", "/auth/token", "/auth/refresh"])
async def test_deeply_nested_json_is_a_400(
    unthrottled_client: httpx.AsyncClient, path: str
) -> None:
    problems = await nesting_problems(unthrottled_client, "POST", path)

    assert not problems, f"POST {path}:\n" + "\n".join(problems)


async def test_a_nul_in_an_address_is_named_at_registration(
    unthrottled_client: httpx.AsyncClient,
) -> None:
    response = await unthrottled_client.post(
        "/auth/register", json={"email": "ada\x00@example.com", "password": PASSWORD}
    )

    assert response.status_code == 422
    assert [problem["field"] for problem in response.json()["error"]["fields"]] == ["email"]


async def test_a_nul_in_a_sign_in_name_is_an_invalid_request(
    unthrottled_client: httpx.AsyncClient,
) -> None:
    response = await unthrottled_client.post(
        "/auth/token", data={**SIGN_IN, "username": "ada\x00@example.com"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"
