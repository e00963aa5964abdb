"""Round trips as a budget, watched on the wire of the real services.

Redis: its own ``MONITOR``, counting the commands clients sent under the app's key prefix (the
commands a script runs inside Redis cost no trip). PostgreSQL: a proxy in front of the server
(:mod:`tests.support.pg_wire`) counting the messages the app then waits on.

The budgets (issue 15): a cached public read is 1 backend round trip, an uncached public read
at most 2 (rate limiting and the row), an authenticated read of one owned row at most 3, rate
limiting and the revocation check included; a page of the caller's orders, 2, however many
orders and lines it holds. A response-cache miss may spend one more, to store
the rendering it made (3).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio

from origin.app import create_app
from origin.db import create_engine, session_factory
from origin.demo import orders
from origin.demo.schemas import OrderLineCreate
from origin.identity.keyring_file import keyring_source
from origin.identity.service import token_policy
from origin.identity.tokens import mint_access_token
from origin.settings import DEV_EDGE_SECRET, Settings
from shared.assertion import ASSERTION_HEADER, sign_assertion
from tests.origin.conftest import running
from tests.support.pg_wire import wire_tap

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)]),
]
BEGIN, END = "begin", "end"


@dataclass(frozen=True)
class Trips:
    redis: list[str]
    postgres: int
    postgres_messages: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.redis) + self.postgres


@dataclass
class Watched:
    client: httpx.AsyncClient
    settings: Settings
    measure: Callable[[Callable[[], Awaitable[httpx.Response]]], Awaitable[Trips]]


async def _client_commands(monitor: Any, prefix: str, marker: str) -> list[str]:
    """The commands clients sent under ``prefix`` between the ``marker`` ECHOes (not those a
    script ran inside Redis, and not other tests' traffic on the shared server)."""
    seen: list[str] = []
    inside = False
    while True:
        entry = await asyncio.wait_for(monitor.next_command(), timeout=10)
        command: str = entry["command"]
        if command == f"ECHO {marker}{BEGIN}":
            inside = True
        elif command == f"ECHO {marker}{END}":
            return seen
        elif inside and entry.get("client_type") != "lua" and prefix in command:
            seen.append(command.split()[0].upper())


@pytest.fixture
def watched(
    seeded_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> Callable[..., AbstractAsyncContextManager[Watched]]:
    """``async with watched(**settings) as w``: the real app (its own authenticator) on the
    seeded PostgreSQL behind a wire tap, with the shared Redis watched by MONITOR."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Watched]:
        async with wire_tap(seeded_url) as tap:
            settings = Settings.from_mapping(
                {
                    "OUTPOST_DATA_DIR": str(tmp_path),
                    "DATABASE_URL": tap.url,
                    "REDIS_URL": redis_url,
                    "OUTPOST_REDIS_PREFIX": redis_prefix,
                }
            ).model_copy(update=overrides)
            watcher = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
            marker_client = redis.asyncio.Redis.from_url(redis_url)
            marker = redis_prefix + secrets.token_hex(4)
            try:
                async with running(create_app(settings)) as client:

                    async def measure(send: Callable[[], Awaitable[httpx.Response]]) -> Trips:
                        await send()  # warm: connections open, statements prepared
                        async with watcher.monitor() as monitor:
                            await marker_client.echo(marker + BEGIN)
                            tap.reset()
                            response = await send()
                            postgres = tap.round_trips
                            messages = dict(tap.messages)
                            await marker_client.echo(marker + END)
                            commands = await _client_commands(monitor, redis_prefix, marker)
                        assert response.status_code == 200, response.text
                        return Trips(commands, postgres, dict(messages))

                    yield Watched(client, settings, measure)
            finally:
                await watcher.aclose()
                await marker_client.aclose()

    return start


async def _place_order(database_url: str, subject: str) -> int:
    """An order of two lines for ``subject``, placed directly (the geofence is not the point)."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with session_factory(engine)() as session:
            lines = [
                OrderLineCreate(product_id=1, quantity=1),
                OrderLineCreate(product_id=2, quantity=2),
            ]
            order, _ = await orders.place_order(session, subject, lines, None, None)
    finally:
        await engine.dispose()
    return order.id


def _revocable_bearer(settings: Settings, subject: str) -> dict[str, str]:
    """An Authorization header for ``subject`` whose token belongs to a session, so the
    revocation check runs on every request it makes."""
    token = mint_access_token(
        keyring_source(settings).keyring().signing_key(),
        token_policy(settings),
        subject=subject,
        roles=[],
        session_id=secrets.token_hex(8),
        now=int(time.time()),
    )
    return {"Authorization": f"Bearer {token}"}


def _report(name: str, trips: Trips) -> None:
    print(
        f"{name}: {trips.total} round trips (redis {trips.redis}, postgres {trips.postgres}:"
        f" {trips.postgres_messages})"
    )


async def test_a_cached_public_read_is_one_round_trip(watched: Any) -> None:
    async with watched() as w:
        trips = await w.measure(lambda: w.client.get("/api/products/1"))
    _report("cached public read", trips)
    assert trips.total == 1, trips


async def test_an_uncached_public_read_is_at_most_two_round_trips(watched: Any) -> None:
    async with watched(response_cache=False) as w:
        trips = await w.measure(lambda: w.client.get("/api/products/1"))
    _report("uncached public read", trips)
    assert trips.total <= 2, trips


async def test_a_response_cache_miss_is_at_most_three_round_trips(watched: Any) -> None:
    async with watched() as w:
        paths = iter(f"/api/products/1?miss={n}" for n in range(2))
        trips = await w.measure(lambda: w.client.get(next(paths)))
    _report("public read, response cache miss", trips)
    assert trips.total <= 3, trips


async def test_an_authenticated_read_of_one_owned_row_is_at_most_three_round_trips(
    watched: Any,
) -> None:
    async with watched() as w:
        bearer = _revocable_bearer(w.settings, "round-trip-customer")
        order_id = await _place_order(w.settings.database_url, "round-trip-customer")
        trips = await w.measure(lambda: w.client.get(f"/api/orders/{order_id}", headers=bearer))
        read = await w.client.get(f"/api/orders/{order_id}", headers=bearer)
    _report("authenticated read of one owned row", trips)
    assert [line["product_id"] for line in read.json()["items"]] == [1, 2]
    assert trips.total <= 3, trips
    # Rate limiting and the revocation check share one script call.
    assert trips.redis == ["EVALSHA"], trips


async def test_an_authenticated_list_of_orders_is_two_round_trips_however_long(
    watched: Any,
) -> None:
    async with watched() as w:
        bearer = _revocable_bearer(w.settings, "round-trip-lister")
        placed = [
            await _place_order(w.settings.database_url, "round-trip-lister") for _ in range(3)
        ]
        trips = await w.measure(lambda: w.client.get("/api/orders?limit=2", headers=bearer))
        first = await w.client.get("/api/orders?limit=2", headers=bearer)
        cursor = first.json()["next_cursor"]
        rest = await w.client.get(f"/api/orders?limit=2&cursor={cursor}", headers=bearer)
    _report("authenticated list of orders", trips)
    # The page and its lines in one statement, outside a transaction: one trip to PostgreSQL.
    assert trips.total <= 2, trips
    assert [order["id"] for order in first.json()["items"]] == placed[:0:-1]
    assert [order["id"] for order in rest.json()["items"]] == placed[:1]
    assert rest.json()["next_cursor"] is None
    assert all(
        [line["product_id"] for line in order["items"]] == [1, 2]
        for order in first.json()["items"] + rest.json()["items"]
    )


def _through_the_edge(path: str, subject: str, session_id: str) -> dict[str, str]:
    """What the edge adds to a request it authenticated: a fresh assertion (nonce included)."""
    signed = sign_assertion(
        secret=DEV_EDGE_SECRET.encode(),
        key_id="dev",
        method="GET",
        path=path,
        subject=subject,
        roles=(),
        country="DE",
        issued_at=int(time.time()),
        nonce=secrets.token_urlsafe(16),
        session_id=session_id,
    )
    return {ASSERTION_HEADER: signed}


async def test_an_authenticated_read_through_the_edge_is_one_redis_round_trip(
    watched: Any,
) -> None:
    async with watched() as w:
        order_id = await _place_order(w.settings.database_url, "edge-customer")
        path = f"/api/orders/{order_id}"
        session_id = secrets.token_hex(8)  # revocable: the revocation check runs too
        trips = await w.measure(
            lambda: w.client.get(path, headers=_through_the_edge(path, "edge-customer", session_id))
        )
        replayed = _through_the_edge(path, "edge-customer", session_id)
        first = await w.client.get(path, headers=replayed)
        replay = await w.client.get(path, headers=replayed)
    _report("authenticated read through the edge", trips)
    # Rate limiting, the assertion's nonce and the revocation check share one script call.
    assert trips.redis == ["EVALSHA"], trips
    assert trips.total <= 3, trips
    assert first.status_code == 200
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "invalid_assertion"
