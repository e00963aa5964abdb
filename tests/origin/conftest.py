"""Fixtures for testing the origin app end to end: a migrated, seeded database and a client.

The app runs its real lifespan (engine, migrations check, store) and is driven over ASGI with
httpx. ``caller`` decides who the app believes is calling: tests set a principal directly rather
than forging a header, because authentication has its own tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from origin.app import create_app
from origin.cli.database import seed_database  # template:demo
from origin.principals import Vouched, vouch
from origin.settings import Settings
from shared.principal import Principal
from tests.origin.layers_app import layers_app
from tests.origin.live_origin import ADMIN, CUSTOMER, LiveOrigin, live_origin


@dataclass
class Caller:
    """Who the app under test believes is calling (``None``: nobody), and, for an anonymous
    caller, the country an edge vouched for (``None``: a direct request nobody vouched for)."""

    principal: Principal | None = None
    anonymous_country: str | None = "DE"
    client_address: str | None = None  # the address an edge reported (None: the peer's)

    def becomes(self, subject: str, *roles: str, country: str | None = "DE") -> Principal:
        """A caller the edge placed in ``country`` (None: nobody vouched for a country)."""
        self.principal = Principal(subject=subject, roles=frozenset(roles), country=country)
        return self.principal

    def leaves(self) -> None:
        self.principal = None

    async def authenticate(self, request: Request) -> Principal | None:
        if self.principal is None:
            vouch(request, Vouched(country=self.anonymous_country, client=self.client_address))
        return self.principal


@pytest.fixture
def caller() -> Caller:
    return Caller()


# template:demo-begin
@pytest.fixture
async def seeded_url(migrated_url: str) -> str:
    await seed_database(migrated_url)
    return migrated_url


# template:demo-end
# template:no-demo: @pytest.fixture
# template:no-demo: def seeded_url(migrated_url: str) -> str:
# template:no-demo:     return migrated_url  # an app without the demo has no data to load
# template:no-demo:
# template:no-demo:
AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_client(caller: Caller, tmp_path: Path) -> AppClient:
    """``async with app_client(database_url, **settings) as client``: the app, started."""

    @asynccontextmanager
    async def start(database_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = Settings.from_mapping(
            {"OUTPOST_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url}
        ).model_copy(update=overrides)
        app = create_app(settings, authenticator=caller.authenticate)
        async with running(app) as client:
            yield client

    return start


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://origin.test") as client:
            yield client


@pytest.fixture
async def layers(migrated_url: str, redis_url: str, redis_prefix: str) -> AsyncIterator[Starlette]:
    """The generic layers (response cache, idempotency) on a small app of their own
    (``tests/origin/layers_app.py``), on SQLite and PostgreSQL with the real Redis."""
    async with layers_app(migrated_url, redis_url, prefix=redis_prefix) as built:
        yield built


@pytest.fixture
async def layers_client(layers: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with running(layers) as started:
        yield started


@pytest.fixture
async def client(app_client: AppClient, seeded_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a seeded database (SQLite and PostgreSQL), with the in-process store."""
    async with app_client(seeded_url) as started:
        yield started


@pytest.fixture
async def unthrottled_client(
    app_client: AppClient, seeded_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Like ``client``, without the per-client rate limit: for suites that send hundreds of
    requests as one caller (a 429 would answer before the checks they are about)."""
    async with app_client(seeded_url, rate_limit_per_minute=1_000_000) as started:
        yield started


async def order(client: httpx.AsyncClient, key: str, **headers: str) -> httpx.Response:
    """``POST /api/orders`` for one unit of product 1: a write the geofence judges by country."""
    body = {"items": [{"product_id": 1, "quantity": 1}]}
    return await client.post("/api/orders", json=body, headers={"Idempotency-Key": key, **headers})


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveOrigin]:
    """A real origin over HTTP, a real administrator and customer (tests/origin/live_origin.py)."""
    with live_origin(tmp_path_factory.mktemp("live-origin")) as origin:
        yield origin


@pytest.fixture(scope="session")
def admin_token(live: LiveOrigin) -> str:
    return live.sign_in(ADMIN)


@pytest.fixture(scope="session")
def customer_token(live: LiveOrigin) -> str:
    return live.sign_in(CUSTOMER)
