"""Requests the edge vouches for: a valid assertion is the caller; forged, stale or replayed is
401; identity and geography headers a client sets by itself are ignored."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from origin.app import create_app
from origin.identity.service import Identity
from origin.settings import DEV_EDGE_SECRET
from shared.assertion import ASSERTION_HEADER, sign_assertion
from shared.jwt import decode_unverified
from tests.origin.identity.conftest import Clock, OriginStarter, bearer, identity_settings
from tests.origin.middleware.hypercorn_server import hypercorn_serving
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio

EDGE_SECRET = DEV_EDGE_SECRET.encode()


def assertion(
    clock: Clock,
    *,
    subject: str | None = "alice",
    roles: Iterable[str] = ("customer",),
    country: str | None = "DE",
    method: str = "GET",
    path: str = "/auth/me",
    secret: bytes = EDGE_SECRET,
    key_id: str = "dev",
    age_seconds: float = 0,
    session_id: str | None = None,
) -> dict[str, str]:
    return {
        ASSERTION_HEADER: sign_assertion(
            secret=secret,
            key_id=key_id,
            method=method,
            path=path,
            subject=subject,
            roles=roles,
            country=country,
            issued_at=int(clock() - age_seconds),
            nonce=secrets.token_urlsafe(16),
            session_id=session_id,
        )
    }


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_a_valid_assertion_is_the_caller_with_its_country(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    async with start_origin(migrated_url) as origin:
        response = await origin.client.get(
            "/auth/me", headers=assertion(clock, roles=["admin", "customer"])
        )

    assert response.status_code == 200
    assert response.json() == {
        "subject": "alice",
        "roles": ["admin", "customer"],
        "country": "DE",
        "email": None,
    }


async def test_the_assertion_binds_the_path_with_its_query(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    async with start_origin(migrated_url) as origin:
        signed_with_query = await origin.client.get(
            "/auth/me?lang=de", headers=assertion(clock, path="/auth/me?lang=de")
        )
        query_added_later = await origin.client.get(
            "/auth/me?lang=de", headers=assertion(clock, path="/auth/me")
        )

    assert signed_with_query.status_code == 200
    assert query_added_later.status_code == 401


@pytest.mark.parametrize(
    "tampering",
    [
        {"secret": b"an attacker's guess at the secret, 32+ bytes"},
        {"key_id": "unknown"},
        {"age_seconds": 31},
        {"age_seconds": -6},
        {"method": "POST"},
        {"path": "/api/orders"},
    ],
    ids=["forged", "unknown-key", "expired", "from-the-future", "other-method", "other-path"],
)
async def test_a_bad_assertion_is_401_whatever_else_the_request_carries(
    start_origin: OriginStarter, migrated_url: str, clock: Clock, tampering: dict[str, Any]
) -> None:
    async with start_origin(migrated_url) as origin:
        valid_token = origin.identity.mint(subject="alice", roles=[], session_id=None)
        response = await origin.client.get(
            "/auth/me", headers={**assertion(clock, **tampering), **bearer(valid_token)}
        )

    assert response.status_code == 401
    assert code_of(response) == "invalid_assertion"
    assert "www-authenticate" in response.headers


async def test_a_replayed_assertion_is_refused(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    async with start_origin(migrated_url) as origin:
        headers = assertion(clock)
        first = await origin.client.get("/auth/me", headers=headers)
        replay = await origin.client.get("/auth/me", headers=headers)

    assert first.status_code == 200
    assert replay.status_code == 401
    assert code_of(replay) == "invalid_assertion"


async def test_a_replay_to_another_origin_is_caught_through_redis(
    start_origin: OriginStarter,
    migrated_url: str,
    clock: Clock,
    redis_namespace: tuple[str, str],
) -> None:
    url, prefix = redis_namespace
    async with (
        start_origin(migrated_url, redis_url=url, redis_prefix=prefix) as first,
        start_origin(migrated_url, redis_url=url, redis_prefix=prefix) as second,
    ):
        headers = assertion(clock)
        accepted = await first.client.get("/auth/me", headers=headers)
        replayed_elsewhere = await second.client.get("/auth/me", headers=headers)

    assert accepted.status_code == 200
    assert replayed_elsewhere.status_code == 401


async def test_with_redis_down_assertions_are_accepted_once_per_process(
    start_origin: OriginStarter, migrated_url: str, clock: Clock, private_redis: RedisServer
) -> None:
    async with start_origin(migrated_url, redis_url=private_redis.url) as origin:
        private_redis.kill()
        headers = assertion(clock)

        first = await origin.client.get("/auth/me", headers=headers)
        replay = await origin.client.get("/auth/me", headers=headers)

    assert first.status_code == 200
    assert replay.status_code == 401


async def test_an_assertion_first_seen_while_redis_was_down_is_refused_once_it_is_back(
    start_origin: OriginStarter, migrated_url: str, clock: Clock, private_redis: RedisServer
) -> None:
    async with start_origin(migrated_url, redis_url=private_redis.url) as origin:
        private_redis.kill()
        headers = assertion(clock)
        during = await origin.client.get("/auth/me", headers=headers)
        private_redis.start()
        ready = await origin.client.get("/readyz")  # the probe that closes the breaker
        replay = await origin.client.get("/auth/me", headers=headers)
        fresh = await origin.client.get("/auth/me", headers=assertion(clock))
        fresh_replayed = await origin.client.get("/auth/me", headers=headers)

    assert during.status_code == 200
    assert ready.status_code == 200
    assert origin.app.state.services.store.healthy
    assert replay.status_code == 401  # this process remembered it
    assert code_of(replay) == "invalid_assertion"
    assert fresh.status_code == 200
    assert fresh_replayed.status_code == 401


async def test_a_replayed_anonymous_assertion_is_refused_with_the_token_it_carries(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    async with start_origin(migrated_url) as origin:
        token = origin.identity.mint(subject="bob", roles=[], session_id=None)
        headers = assertion(clock, subject=None, roles=())
        first = await origin.me(token, **headers)
        replay = await origin.me(token, **headers)

    assert (first.status_code, first.json()["country"]) == (200, "DE")
    assert replay.status_code == 401
    assert code_of(replay) == "invalid_assertion"


async def test_two_edge_secrets_are_accepted_during_a_rotation(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    old, new = "o" * 32, "n" * 32
    secrets = ((key_id, SecretStr(secret)) for key_id, secret in (("old", old), ("new", new)))
    async with start_origin(migrated_url, edge_secrets=tuple(secrets)) as origin:
        by_old = await origin.client.get(
            "/auth/me", headers=assertion(clock, secret=old.encode(), key_id="old")
        )
        by_new = await origin.client.get(
            "/auth/me", headers=assertion(clock, secret=new.encode(), key_id="new")
        )
        by_retired_dev_secret = await origin.client.get("/auth/me", headers=assertion(clock))

    assert (by_old.status_code, by_new.status_code) == (200, 200)
    assert by_retired_dev_secret.status_code == 401


async def test_identity_and_geography_headers_without_an_assertion_are_ignored(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    spoofed = {
        "X-Outpost-Subject": "admin",
        "X-Outpost-Roles": "admin",
        "CF-IPCountry": "US",
        "CF-Connecting-IP": "1.2.3.4",
    }
    async with start_origin(migrated_url) as origin:
        no_token = await origin.client.get("/auth/me", headers=spoofed)
        token = origin.identity.mint(subject="bob", roles=[], session_id=None)
        with_token = await origin.me(token, **spoofed)

    assert no_token.status_code == 401
    assert with_token.status_code == 200
    assert with_token.json()["subject"] == "bob"
    assert with_token.json()["roles"] == []
    assert with_token.json()["country"] is None


async def test_an_anonymous_assertion_vouches_for_the_country_of_a_bearer_token_caller(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    async with start_origin(migrated_url) as origin:
        token = origin.identity.mint(subject="bob", roles=[], session_id=None)
        response = await origin.me(token, **assertion(clock, subject=None, roles=()))
        anonymous = await origin.client.get(
            "/auth/me", headers=assertion(clock, subject=None, roles=())
        )

    assert response.status_code == 200
    assert (response.json()["subject"], response.json()["country"]) == ("bob", "DE")
    assert anonymous.status_code == 401
    assert code_of(anonymous) == "unauthorized"


async def test_a_vouched_for_request_whose_session_was_revoked_is_refused(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    async with start_origin(migrated_url) as origin:
        tokens = await origin.new_account("alice@example.com")
        subject = (await origin.me(tokens["access_token"])).json()["subject"]
        session_id = decode_unverified(tokens["access_token"]).claims["sid"]

        def through_the_edge(method: str, path: str, *, token: bool) -> dict[str, str]:
            vouched = assertion(
                clock, subject=subject, method=method, path=path, session_id=session_id
            )
            return {**vouched, **bearer(tokens["access_token"])} if token else vouched

        # Sign out through the edge; then ask again with and without the token travelling
        # along (a client can have the edge drop it: `Connection: authorization`).
        logout = await origin.client.post(
            "/auth/logout", headers=through_the_edge("POST", "/auth/logout", token=True)
        )
        with_token, without_token = [
            await origin.client.get(
                "/auth/me", headers=through_the_edge("GET", "/auth/me", token=token)
            )
            for token in (True, False)
        ]

    assert logout.status_code == 204
    assert [with_token.status_code, without_token.status_code] == [401, 401]
    assert {code_of(with_token), code_of(without_token)} == {"invalid_token"}


async def test_signing_out_through_the_edge_needs_no_token_to_travel(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    """The session to revoke comes from the assertion, whatever headers reached the origin."""
    async with start_origin(migrated_url) as origin:
        tokens = await origin.new_account("alice@example.com")
        subject = (await origin.me(tokens["access_token"])).json()["subject"]
        session_id = decode_unverified(tokens["access_token"]).claims["sid"]
        logout = await origin.client.post(
            "/auth/logout",
            headers=assertion(
                clock, subject=subject, method="POST", path="/auth/logout", session_id=session_id
            ),
        )
        direct = await origin.me(tokens["access_token"])

    assert logout.status_code == 204
    assert direct.status_code == 401


async def test_the_signed_target_matches_what_a_real_server_receives(
    migrated_url: str, clock: Clock, tmp_path: Path
) -> None:
    """Over Hypercorn, the origin checks the path and query as they were on the wire
    (percent-encoding kept), which is what the edge signs: its URL's pathname + search."""
    settings = identity_settings(tmp_path, migrated_url)
    app = create_app(settings, identity=Identity(settings, clock=clock))
    target = "/auth/me?next=%2Fapi%2Forders&q=caf%C3%A9"
    async with (
        app.router.lifespan_context(app),
        hypercorn_serving(app) as (host, port),
        httpx.AsyncClient(base_url=f"http://{host}:{port}") as client,
    ):
        exact = await client.get(target, headers=assertion(clock, path=target))
        decoded = await client.get(
            target, headers=assertion(clock, path="/auth/me?next=/api/orders&q=café")
        )

    assert exact.status_code == 200
    assert decoded.status_code == 401


async def test_an_anonymous_assertion_still_vouches_for_the_country(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    async with start_origin(migrated_url) as origin:
        embargoed = await origin.client.get(
            "/.well-known/jwks.json",
            headers=assertion(clock, subject=None, country="KP", path="/.well-known/jwks.json"),
        )

    assert embargoed.status_code == 451
    assert embargoed.json()["error"]["rule"] == "embargoed-countries"
