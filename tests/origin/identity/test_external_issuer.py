"""Tokens of an external identity provider, its JWKS fetched over HTTP from a real local server."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.origin.identity.conftest import Clock, OriginStarter, bearer
from tests.origin.middleware.hypercorn_server import hypercorn_serving
from tests.shared.jwt_issuer import IssuerKey, claims, generate_key, mint

pytestmark = pytest.mark.anyio

ISSUER = "https://idp.example/"
AUDIENCE = "outpost-api"


@dataclass
class IdentityProvider:
    """Serves ``/jwks.json`` (``keys``), counting the fetches; ``down`` answers 503."""

    keys: list[IssuerKey]
    fetches: int = 0
    down: bool = False
    extra_members: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def serve_jwks(self, request: Request) -> Response:
        self.fetches += 1
        if self.down:
            return Response(status_code=503)
        members = [key.public_jwk for key in self.keys] + self.extra_members
        return JSONResponse({"keys": members})

    def token(self, key: IssuerKey | None = None, now: float = 0, **changes: Any) -> str:
        payload = claims(now, **{"iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|alice", **changes})
        return mint(key or self.keys[0], payload)


@pytest.fixture
async def provider() -> AsyncIterator[IdentityProvider]:
    idp = IdentityProvider(keys=[generate_key("RS256", kid="idp-1")])
    app = Starlette(routes=[Route("/jwks.json", idp.serve_jwks)])
    async with hypercorn_serving(app) as (host, port):
        idp.url = f"http://{host}:{port}/jwks.json"
        yield idp


def external(provider: IdentityProvider) -> dict[str, str]:
    return {
        "external_issuer": ISSUER,
        "external_audience": AUDIENCE,
        "external_jwks_url": provider.url,
    }


async def test_a_token_of_the_external_issuer_is_verified_with_its_jwks(
    start_origin: OriginStarter, migrated_url: str, provider: IdentityProvider, clock: Clock
) -> None:
    async with start_origin(migrated_url, **external(provider)) as origin:
        response = await origin.me(provider.token(now=clock(), roles=["admin"]))
        second = await origin.me(provider.token(now=clock()))

    assert response.status_code == second.status_code == 200
    assert response.json()["subject"] == "auth0|alice"
    assert response.json()["roles"] == ["admin"]
    assert provider.fetches == 1  # cached for the second token


@pytest.mark.parametrize(
    "changes",
    [{"aud": "someone-else"}, {"exp": 1}, {"iss": "https://idp.example"}],
    ids=["wrong-audience", "expired", "issuer-without-slash"],
)
async def test_external_tokens_meet_the_same_checks(
    start_origin: OriginStarter,
    migrated_url: str,
    provider: IdentityProvider,
    clock: Clock,
    changes: dict[str, Any],
) -> None:
    async with start_origin(migrated_url, **external(provider)) as origin:
        response = await origin.me(provider.token(now=clock(), **changes))

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_an_unknown_kid_fetches_the_jwks_again_once(
    start_origin: OriginStarter,
    migrated_url: str,
    provider: IdentityProvider,
    clock: Clock,
    monotonic: Clock,
) -> None:
    async with start_origin(migrated_url, **external(provider)) as origin:
        assert (await origin.me(provider.token(now=clock()))).status_code == 200
        rotated = generate_key("ES256", kid="idp-2")
        provider.keys.append(rotated)
        monotonic.advance(31)  # past the minimum interval between fetches

        first = await origin.me(provider.token(rotated, now=clock()))
        second = await origin.me(provider.token(rotated, now=clock()))

    assert (first.status_code, second.status_code) == (200, 200)
    assert provider.fetches == 2


async def test_a_flood_of_random_kids_costs_at_most_one_fetch(
    start_origin: OriginStarter,
    migrated_url: str,
    provider: IdentityProvider,
    clock: Clock,
    monotonic: Clock,
) -> None:
    async with start_origin(migrated_url, **external(provider)) as origin:
        assert (await origin.me(provider.token(now=clock()))).status_code == 200
        monotonic.advance(31)
        fetches_before = provider.fetches

        def random_kid_token() -> str:
            stranger = generate_key("ES256", kid=secrets.token_hex(8))
            return provider.token(stranger, now=clock())

        tokens = [random_kid_token() for _ in range(50)]
        answers = await asyncio.gather(*(origin.me(token) for token in tokens))

    assert {answer.status_code for answer in answers} == {401}
    assert provider.fetches - fetches_before <= 1


async def test_without_any_keys_from_the_provider_its_tokens_get_503_not_401(
    start_origin: OriginStarter,
    migrated_url: str,
    provider: IdentityProvider,
    clock: Clock,
    monotonic: Clock,
) -> None:
    provider.down = True
    async with start_origin(migrated_url, **external(provider)) as origin:
        while_down = await origin.me(provider.token(now=clock()))
        again_at_once = await origin.me(provider.token(now=clock()))
        provider.down = False
        monotonic.advance(5)  # the back-off after a failed fetch
        recovered = await origin.me(provider.token(now=clock()))

    assert while_down.status_code == 503
    assert while_down.json()["error"]["code"] == "identity_provider_unavailable"
    assert "retry-after" in while_down.headers
    assert again_at_once.status_code == 503
    assert recovered.status_code == 200
    assert provider.fetches == 2  # the failure was not retried on every request


async def test_cached_keys_keep_serving_while_the_provider_is_down(
    start_origin: OriginStarter,
    migrated_url: str,
    provider: IdentityProvider,
    clock: Clock,
    monotonic: Clock,
) -> None:
    async with start_origin(migrated_url, **external(provider)) as origin:
        assert (await origin.me(provider.token(now=clock()))).status_code == 200
        provider.down = True
        monotonic.advance(301)  # the cached JWKS is stale; the re-fetch fails

        response = await origin.me(provider.token(now=clock()))

    assert response.status_code == 200
    assert provider.fetches == 2


async def test_a_secret_published_in_the_providers_jwks_verifies_nothing(
    start_origin: OriginStarter, migrated_url: str, provider: IdentityProvider, clock: Clock
) -> None:
    hmac_key = generate_key("HS256", kid="idp-oct")
    provider.extra_members.append(hmac_key.public_jwk)  # {"kty": "oct", "k": ...}
    async with start_origin(migrated_url, **external(provider)) as origin:
        response = await origin.me(provider.token(hmac_key, now=clock()))

    assert response.status_code == 401


async def test_the_origins_own_tokens_still_verify_beside_the_external_ones(
    start_origin: OriginStarter, migrated_url: str, provider: IdentityProvider, clock: Clock
) -> None:
    async with start_origin(migrated_url, **external(provider)) as origin:
        own = origin.identity.mint(subject="alice", roles=[], session_id=None)
        response = await origin.client.get("/auth/me", headers=bearer(own))

    assert response.status_code == 200
    assert provider.fetches == 0  # the own issuer's tokens never touch the provider
