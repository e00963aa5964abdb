"""The real app's layers answer in the order ``origin/middleware/stack.py`` declares: each test
sends a request two layers would refuse and checks which one answers. Reordering the stack (or
``create_app`` installing another one) fails here."""

from __future__ import annotations

import httpx
import pytest

from tests.origin.conftest import AppClient, Caller

pytestmark = pytest.mark.anyio

OVERSIZED = b"x" * 2_000
LIMITS = {"max_body_bytes": 1_000, "rate_limit_per_minute": 2}


async def spend_the_budget(client: httpx.AsyncClient) -> None:
    for _ in range(LIMITS["rate_limit_per_minute"]):
        assert (await client.get("/healthz/nothing-here")).status_code == 404
    assert (await client.get("/healthz/nothing-here")).status_code == 429


async def test_the_request_context_identifies_every_answer_even_the_earliest_refusals(
    app_client: AppClient, migrated_url: str
) -> None:
    async with app_client(migrated_url, **LIMITS) as client:
        head = await client.get("/auth/me", headers=[("Host", "a"), ("Host", "b")])
        body = await client.post("/auth/token", content=OVERSIZED, headers={"X-Request-ID": "r1"})

    assert (head.status_code, body.status_code) == (400, 413)
    assert head.headers["x-request-id"]
    assert body.headers["x-request-id"] == "r1"
    assert body.headers["server-timing"].startswith("app;dur=")


async def test_a_malformed_head_is_refused_before_its_body_is_measured(
    app_client: AppClient, migrated_url: str
) -> None:
    async with app_client(migrated_url, **LIMITS) as client:
        answer = await client.post(
            "/auth/token",
            content=OVERSIZED,
            headers=[("Content-Type", "application/json"), ("Content-Type", "text/plain")],
        )

    assert answer.status_code == 400


async def test_an_oversized_body_is_refused_before_it_spends_the_rate_limit_budget(
    app_client: AppClient, migrated_url: str
) -> None:
    async with app_client(migrated_url, **LIMITS) as client:
        refused = [await client.post("/auth/token", content=OVERSIZED) for _ in range(3)]
        await spend_the_budget(client)  # the 413s spent nothing: the whole budget is left
        still_oversized = await client.post("/auth/token", content=OVERSIZED)

    assert [answer.status_code for answer in refused] == [413, 413, 413]
    assert still_oversized.status_code == 413  # a spent budget does not hide the size limit


async def test_the_rate_limit_answers_before_routing_so_unknown_paths_spend_the_budget(
    app_client: AppClient, migrated_url: str
) -> None:
    async with app_client(migrated_url, **LIMITS) as client:
        await spend_the_budget(client)
        known_route = await client.get("/auth/me")

    assert known_route.status_code == 429
    assert known_route.json()["error"]["code"] == "rate_limited"


async def test_cors_preflights_are_answered_before_the_rate_limit(
    app_client: AppClient, migrated_url: str
) -> None:
    async with app_client(migrated_url, cors_origins=("https://app.example",), **LIMITS) as client:
        await spend_the_budget(client)
        preflight = await client.options(
            "/auth/me",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"


async def test_routing_answers_before_the_route_checks(
    app_client: AppClient, migrated_url: str, caller: Caller
) -> None:
    caller.anonymous_country = "KP"  # embargoed: the geofence refuses every route from there
    async with app_client(migrated_url) as client:
        no_route = await client.get("/auth/nothing-here")
        wrong_method = await client.delete("/auth/me")

    assert no_route.status_code == 404
    assert wrong_method.status_code == 405


async def test_who_is_calling_is_checked_before_where_they_call_from(
    app_client: AppClient, migrated_url: str, caller: Caller
) -> None:
    caller.anonymous_country = "KP"
    async with app_client(migrated_url) as client:
        anonymous = await client.get("/auth/me")
        caller.becomes("alice", "customer", country="KP")
        signed_in = await client.get("/auth/me")

    assert anonymous.status_code == 401  # the policy is not revealed to an unknown caller
    assert signed_in.status_code == 451
