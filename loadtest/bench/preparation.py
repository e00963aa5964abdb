"""Before measuring: sign in, make the scenarios possible, warm every path they take.

Warming fills the edge's cache and connection pool, fetches its JWKS and wakes the origin's
database, so the runs measure steady state rather than a cold start (which local emulation
cannot show faithfully anyway: see docs/loadtest.md).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import httpx

from loadtest.catalog import LIST_QUERIES, PAGE_SIZE  # template:demo

WARM_UP_CONCURRENCY = 8
# Far more than any bench orders, so no order fails for lack of stock.
RESTOCK_TO = 1_000_000  # template:demo


class PreparationFailed(RuntimeError):
    """A target answered the preparation with an error; measuring it would measure that."""


# template:demo-begin
async def product_ids(client: httpx.AsyncClient, base_url: str, country: str) -> list[int]:
    ids: list[int] = []
    path = f"/api/products?limit={PAGE_SIZE}"
    while True:
        page = _json(await client.get(base_url + path, headers={"CF-IPCountry": country}))
        ids += [item["id"] for item in page["items"]]
        if not page.get("next_cursor"):
            return ids
        path = f"/api/products?limit={PAGE_SIZE}&cursor={page['next_cursor']}"


async def restock(base_url: str, admin_token: str, country: str) -> int:
    """Give every product plenty of stock (the bench's own throwaway database only).

    Through the edge in local mode, whose assertion tells the origin the admin's country: the
    origin's geofence allows catalog changes from the EU only, and only a vouched country counts.
    """
    headers = {"Authorization": f"Bearer {admin_token}", "CF-IPCountry": country}
    async with httpx.AsyncClient(timeout=10.0, headers=headers) as client:
        ids = await product_ids(client, base_url, country)

        def change(product: int) -> Callable[[], Awaitable[httpx.Response]]:
            url = f"{base_url}/api/products/{product}"
            return lambda: _checked(client.patch(url, json={"stock": RESTOCK_TO}))

        await _bounded(change(product) for product in ids)
    return len(ids)


async def public_paths(client: httpx.AsyncClient, base_url: str, country: str) -> list[str]:
    """Every catalog page and product the shop scenarios may read."""
    ids = await product_ids(client, base_url, country)
    return [*LIST_QUERIES, *(f"/api/products/{product}" for product in ids)]


PRIVATE_PATHS = ("/auth/me", "/api/orders?limit=5")
"""The signed-in reads of the scenarios, warmed once per token."""
# template:demo-end
# template:no-demo: async def public_paths(
# template:no-demo:     client: httpx.AsyncClient, base_url: str, country: str
# template:no-demo: ) -> list[str]:
# template:no-demo:     """The public reads the scenarios make (loadtest/scenarios.py)."""
# template:no-demo:     return ["/api/hello?name=bench"]
# template:no-demo:
# template:no-demo:
# template:no-demo: PRIVATE_PATHS = ("/auth/me",)
# template:no-demo: """The signed-in reads of the scenarios, warmed once per token."""


async def warm_up(base_url: str, tokens: Sequence[str], country: str) -> int:
    """Request every public path the scenarios read once, and each signed-in read per token."""
    headers = {"CF-IPCountry": country}
    async with httpx.AsyncClient(timeout=15.0, headers=headers) as client:
        paths = await public_paths(client, base_url, country)
        requests: list[tuple[str, str | None]] = [(path, None) for path in paths]
        for token in tokens:
            requests += [(path, token) for path in PRIVATE_PATHS]

        def fetch(path: str, token: str | None) -> Callable[[], Awaitable[httpx.Response]]:
            auth = {"Authorization": f"Bearer {token}"} if token else {}
            return lambda: _checked(client.get(base_url + path, headers=auth))

        await _bounded(fetch(path, token) for path, token in requests)
    return len(requests)


async def sign_in(origin_url: str) -> str:
    """Register a throwaway account at a deployment and sign in (for ``--origin-url`` runs)."""
    email = f"bench-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(18)
    async with httpx.AsyncClient(timeout=15.0) as client:
        await _checked(
            client.post(f"{origin_url}/auth/register", json={"email": email, "password": password})
        )
        answer = await _checked(
            client.post(
                f"{origin_url}/auth/token",
                data={"grant_type": "password", "username": email, "password": password},
            )
        )
    token: str = answer.json()["access_token"]
    return token


async def _checked(pending: Awaitable[httpx.Response]) -> httpx.Response:
    response = await pending
    if response.status_code >= 400:
        raise PreparationFailed(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
    return response


def _json(response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise PreparationFailed(
            f"GET {response.request.url} answered {response.status_code}: {response.text[:300]}"
        )
    return response.json()


async def _bounded(calls: Iterable[Callable[[], Awaitable[Any]]]) -> None:
    """Make all calls, at most ``WARM_UP_CONCURRENCY`` at a time; the first failure stops the rest
    (calls not yet made are never made, so nothing is left half-started)."""
    gate = asyncio.Semaphore(WARM_UP_CONCURRENCY)

    async def one(call: Callable[[], Awaitable[Any]]) -> None:
        async with gate:
            await call()

    try:
        async with asyncio.TaskGroup() as group:
            for call in calls:
                group.create_task(one(call))
    except ExceptionGroup as failed:  # the first failure says what went wrong
        raise failed.exceptions[0] from None
