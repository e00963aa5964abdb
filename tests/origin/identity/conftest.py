"""Fixtures for the identity tests: the origin with its real authenticator, a movable clock.

``start_origin(database_url, **settings)`` runs the app's real lifespan (database, store,
identity service) with the identity service's clock under the test's control, and drives it
over ASGI with httpx. Settings fields can be overridden by name (e.g. ``redis_url=...``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from origin.app import create_app
from origin.identity.service import Identity
from origin.settings import Settings
from tests.origin.kv.conftest import delete_namespace

PASSWORD = "correct horse battery staple"


class Clock:
    """Seconds since the epoch, moved by hand; starts at the real time so that keys rotated by
    the CLI (which reads the real clock) and tokens minted here agree on what "now" is."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def monotonic() -> Clock:
    """The clock of caches and rate limits inside the identity service (JWKS re-fetches)."""
    return Clock(start=1000.0)


def identity_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    base = Settings.from_mapping({"OUTPOST_DATA_DIR": str(data_dir), "DATABASE_URL": database_url})
    # The general per-client limit would get in the way of tests that sign in many times.
    return base.model_copy(update={"rate_limit_per_minute": 100_000, **overrides})


@dataclass
class RunningOrigin:
    client: httpx.AsyncClient
    identity: Identity
    settings: Settings
    app: Starlette

    def client_from(self, address: str) -> httpx.AsyncClient:
        """Another client of the same app, connecting from ``address``."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://origin.test")

    async def register(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post("/auth/register", json={"email": email, "password": password})

    async def sign_in(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post(
            "/auth/token",
            data={"grant_type": "password", "username": email, "password": password},
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def new_account(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        """Register and sign in: the token response."""
        assert (await self.register(email, password)).status_code == 202
        return await self.sign_in(email, password)

    async def me(self, access_token: str, **headers: str) -> httpx.Response:
        return await self.client.get("/auth/me", headers={**bearer(access_token), **headers})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


OriginStarter = Callable[..., AbstractAsyncContextManager[RunningOrigin]]


@pytest.fixture
def start_origin(tmp_path: Path, clock: Clock, monotonic: Clock) -> OriginStarter:
    @asynccontextmanager
    async def start(
        database_url: str, *, client_address: str = "127.0.0.1", **overrides: Any
    ) -> AsyncIterator[RunningOrigin]:
        settings = identity_settings(tmp_path, database_url, **overrides)
        identity = Identity(settings, clock=clock, monotonic=monotonic)
        app = create_app(settings, identity=identity)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(client_address, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://origin.test") as c:
                yield RunningOrigin(c, identity, settings, app)

    return start


@pytest.fixture
def redis_namespace(redis_url: str, redis_prefix: str) -> Iterator[tuple[str, str]]:
    """The shared Redis and a key prefix of this test's own (removed afterwards)."""
    yield redis_url, redis_prefix
    delete_namespace(redis_url, redis_prefix)
