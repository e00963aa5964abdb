"""The /auth API over HTTP: register, sign in (form and JSON), refresh, sign out, who am I."""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from origin.identity.accounts import find_login, replace_password_hash
from origin.identity.accounts import set_roles as grant_roles  # template:demo
from origin.identity.passwords import needs_rehash
from tests.origin.identity.conftest import PASSWORD, OriginStarter, bearer

pytestmark = pytest.mark.anyio

ALICE = "alice@example.com"


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


async def test_register_sign_in_refresh_and_sign_out_round_trip(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        registered = await origin.register(ALICE)
        tokens = await origin.sign_in(ALICE)

        me = await origin.me(tokens["access_token"])
        refreshed = await origin.client.post(
            "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        fresh = refreshed.json()
        logout = await origin.client.post("/auth/logout", headers=bearer(fresh["access_token"]))
        after_logout = await origin.me(fresh["access_token"])
        refresh_after_logout = await origin.client.post(
            "/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
        )

    assert registered.status_code == 202
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert me.status_code == 200
    assert me.json() == {
        "subject": me.json()["subject"],
        "roles": ["customer"],
        "country": None,
        "email": ALICE,
    }
    assert me.json()["subject"].startswith("usr_")
    assert refreshed.status_code == 200
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert logout.status_code == 204
    assert after_logout.status_code == 401
    assert after_logout.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert refresh_after_logout.status_code == 400
    assert error_of(refresh_after_logout)["code"] == "invalid_grant"


async def test_the_token_endpoint_takes_form_data_and_json_alike(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        await origin.register(ALICE)
        grant = {"grant_type": "password", "username": ALICE, "password": PASSWORD}

        as_form = await origin.client.post("/auth/token", data=grant)
        as_json = await origin.client.post("/auth/token", json=grant)
        by_refresh_grant = await origin.client.post(
            "/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": as_json.json()["refresh_token"]},
        )

    for response in (as_form, as_json, by_refresh_grant):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
        assert set(response.json()) == {"access_token", "token_type", "expires_in", "refresh_token"}


async def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        await origin.register(ALICE)

        wrong_password = await origin.client.post(
            "/auth/token",
            data={"grant_type": "password", "username": ALICE, "password": "not the password"},
        )
        unknown_account = await origin.client.post(
            "/auth/token",
            data={"grant_type": "password", "username": "bob@example.com", "password": "x" * 12},
        )

    assert wrong_password.status_code == unknown_account.status_code == 400
    assert wrong_password.json() == unknown_account.json()
    assert error_of(wrong_password)["code"] == "invalid_grant"
    assert {
        name: value
        for name, value in wrong_password.headers.items()
        if name not in ("x-request-id", "traceparent", "server-timing", "ratelimit-remaining")
    } == {
        name: value
        for name, value in unknown_account.headers.items()
        if name not in ("x-request-id", "traceparent", "server-timing", "ratelimit-remaining")
    }


async def test_registering_a_taken_address_looks_and_takes_the_same_as_a_free_one(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        await origin.register(ALICE)

        async def timed(email: str) -> tuple[httpx.Response, float]:
            started = time.perf_counter()
            response = await origin.register(email, "another good password")
            return response, time.perf_counter() - started

        taken = [await timed(ALICE) for _ in range(5)]
        free = [await timed(f"new{n}@example.com") for n in range(5)]
        # The taken address kept its first password.
        still_first = await origin.sign_in(ALICE)

    assert {response.status_code for response, _ in taken + free} == {202}
    assert {response.text for response, _ in taken + free} == {taken[0][0].text}
    ratio = statistics.median(t for _, t in taken) / statistics.median(t for _, t in free)
    assert 0.5 < ratio < 2.0
    assert still_first["access_token"]


async def test_a_weak_password_is_refused_with_the_policy_problem(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        short = await origin.register(ALICE, "short")
        not_an_email = await origin.client.post(
            "/auth/register", json={"email": "alice", "password": PASSWORD}
        )

    assert short.status_code == 422
    assert error_of(short)["fields"][0]["field"] == "password"
    assert "at least 10 characters" in error_of(short)["fields"][0]["message"]
    assert not_an_email.status_code == 422
    assert error_of(not_an_email)["fields"][0]["field"] == "email"


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (
            b"grant_type=client_credentials",
            "application/x-www-form-urlencoded",
            400,
            "unsupported_grant_type",
        ),
        (
            b"grant_type=password&username=a%40b.c",
            "application/x-www-form-urlencoded",
            400,
            "invalid_request",
        ),
        (
            b"username=a%40b.c&password=xxxxxxxxxx",
            "application/x-www-form-urlencoded",
            400,
            "invalid_request",
        ),
        (
            b"grant_type=password&grant_type=password&username=a&password=b",
            "application/x-www-form-urlencoded",
            400,
            "invalid_request",
        ),
        (
            b'{"grant_type": "password", "username": 1, "password": "x"}',
            "application/json",
            400,
            "invalid_request",
        ),
        (b"[1, 2]", "application/json", 400, "invalid_request"),
        (b"{not json", "application/json", 400, "invalid_request"),
        (b"grant_type=password", "text/plain", 415, "unsupported_media_type"),
    ],
)
async def test_a_malformed_token_request_gets_an_oauth_error_in_our_error_body(
    start_origin: OriginStarter,
    migrated_url: str,
    content: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    async with start_origin(migrated_url) as origin:
        response = await origin.client.post(
            "/auth/token", content=content, headers={"Content-Type": content_type}
        )

    assert response.status_code == status
    assert error_of(response)["code"] == code
    assert response.headers["cache-control"] == "no-store"


# template:demo-begin
async def test_roles_come_from_the_account_and_reach_the_token(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        tokens = await origin.new_account(ALICE)
        subject = (await origin.me(tokens["access_token"])).json()["subject"]
        async with origin.identity.running.sessions() as session:
            await grant_roles(session, subject, frozenset({"admin", "customer"}))

        refreshed = await origin.client.post(
            "/auth/refresh", data={"refresh_token": tokens["refresh_token"]}
        )
        me = await origin.me(refreshed.json()["access_token"])
        # Straight to the origin, nobody vouches for a country: the geofence keeps catalog
        # changes (EU-only) out of reach whatever the roles.
        create = await origin.client.post(
            "/api/products",
            json={"sku": "X-1", "name": "X", "category": "tools", "price_cents": 100, "stock": 1},
            headers=bearer(refreshed.json()["access_token"]),
        )

    assert me.json()["roles"] == ["admin", "customer"]
    assert create.status_code == 451
    assert create.json()["error"]["rule"] == "catalog-changes-outside-eu"


# template:demo-end


async def test_who_am_i_needs_credentials(start_origin: OriginStarter, migrated_url: str) -> None:
    async with start_origin(migrated_url) as origin:
        anonymous = await origin.client.get("/auth/me")
        other_scheme = await origin.client.get(
            "/auth/me", headers={"Authorization": "Basic YWxpY2U6cHc="}
        )

    assert anonymous.status_code == other_scheme.status_code == 401
    assert error_of(anonymous)["code"] == "unauthorized"


async def test_signing_out_a_token_without_a_session_is_refused(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        development = origin.identity.mint(subject="alice", roles=["admin"], session_id=None)

        me = await origin.me(development)
        logout = await origin.client.post("/auth/logout", headers=bearer(development))

    assert me.json() == {"subject": "alice", "roles": ["admin"], "country": None, "email": None}
    assert logout.status_code == 400
    assert error_of(logout)["code"] == "no_session"


async def test_the_identity_routes_are_in_the_openapi_document(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        paths = (await origin.client.get("/openapi.json")).json()["paths"]

    assert {"/.well-known/jwks.json", "/auth/register", "/auth/token", "/auth/refresh"} <= set(
        paths
    )
    assert paths["/auth/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "202" in paths["/auth/register"]["post"]["responses"]


async def test_a_hash_with_outdated_parameters_is_replaced_at_sign_in(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    async with start_origin(migrated_url) as origin:
        await origin.register(ALICE)
        async with origin.identity.running.sessions() as session:
            record = await find_login(session, ALICE)
            assert record is not None
            await replace_password_hash(session, record.account.id, weak)

        await origin.sign_in(ALICE)

        async with origin.identity.running.sessions() as session:
            rehashed = await find_login(session, ALICE)
    assert rehashed is not None
    assert rehashed.password_hash != weak
    assert not needs_rehash(rehashed.password_hash)
