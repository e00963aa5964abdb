"""Sign-in attempts are limited per account and per client address: 429 with Retry-After."""

from __future__ import annotations

import pytest

from tests.origin.identity.conftest import OriginStarter, RunningOrigin

pytestmark = pytest.mark.anyio


WRONG_PASSWORD = "not the password"


async def attempt(origin: RunningOrigin, email: str, password: str = WRONG_PASSWORD) -> int:
    response = await origin.client.post(
        "/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    return response.status_code


async def test_an_account_gets_a_few_attempts_then_429_with_retry_after(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url, login_attempts_per_account=3) as origin:
        await origin.register("alice@example.com")
        statuses = [await attempt(origin, "alice@example.com") for _ in range(3)]

        limited = await origin.client.post(
            "/auth/token",
            data={
                "grant_type": "password",
                "username": "ALICE@example.com",  # another spelling is the same account
                "password": "correct horse battery staple",  # even the right password waits
            },
        )
        other_account = await attempt(origin, "bob@example.com")

    assert statuses == [400, 400, 400]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "too_many_attempts"
    assert int(limited.headers["retry-after"]) >= 1
    assert other_account == 400


async def test_an_unknown_account_is_limited_the_same_as_a_real_one(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url, login_attempts_per_account=2) as origin:
        await origin.register("alice@example.com")
        real = [await attempt(origin, "alice@example.com") for _ in range(3)]
        unknown = [await attempt(origin, "nobody@example.com") for _ in range(3)]

    assert real == unknown == [400, 400, 429]


async def test_one_address_trying_many_accounts_is_limited(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url, login_attempts_per_address=4) as origin:
        statuses = [await attempt(origin, f"user{n}@example.com") for n in range(5)]
        async with origin.client_from("10.0.0.9") as other:
            from_elsewhere = await other.post(
                "/auth/token",
                data={"grant_type": "password", "username": "u@example.com", "password": "x" * 10},
            )

    assert statuses == [400, 400, 400, 400, 429]
    assert from_elsewhere.status_code == 400


async def test_the_limits_are_shared_through_redis(
    start_origin: OriginStarter, migrated_url: str, redis_namespace: tuple[str, str]
) -> None:
    url, prefix = redis_namespace
    settings = {"redis_url": url, "redis_prefix": prefix, "login_attempts_per_account": 2}
    async with (
        start_origin(migrated_url, **settings) as first,
        start_origin(migrated_url, **settings) as second,
    ):
        statuses = [
            await attempt(first, "alice@example.com"),
            await attempt(second, "alice@example.com"),
            await attempt(first, "alice@example.com"),
        ]

    assert statuses == [400, 400, 429]


async def test_registrations_spend_from_the_address_budget_too(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url, login_attempts_per_address=2) as origin:
        statuses = [(await origin.register(f"user{n}@example.com")).status_code for n in range(3)]

    assert statuses == [202, 202, 429]
