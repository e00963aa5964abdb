"""The load-test scenarios: one Locust user class per scenario, each task tagged with it.

Every request is named ``scenario: request [X-Cache]`` (see :mod:`loadtest.naming`) and judged
against the status it should get, so refusals the edge is meant to give (401, 451) count as
successes and anything else as a failure. Select scenarios with ``--tags``::

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8787 --tags catalog
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any, ClassVar

from locust import FastHttpUser, constant_throughput, tag, task

from loadtest import catalog, tokens
from loadtest.naming import geofence_refusal_failure, request_name, unexpected_status
from loadtest.pacing import PoissonPace

OK = frozenset({200})
CREATED = frozenset({201})
UNAUTHORIZED = frozenset({401})


class ShopUser(FastHttpUser):
    """What every scenario's user can do; a scenario is a choice and weighting of these."""

    abstract = True
    _next_number: ClassVar[int] = 0

    def on_start(self) -> None:
        options = self.environment.parsed_options
        rate = getattr(options, "user_rate", 1.0)
        if getattr(options, "arrivals", "poisson") == "steady":
            self.pace = constant_throughput(rate)
        else:
            self.pace = PoissonPace(rate)
        self.country_code: str = getattr(options, "country", "DE")
        self.blocked_country_code: str = getattr(options, "blocked_country", "KP")
        ShopUser._next_number += 1
        given = tokens.tokens_from_env(os.environ)
        if given:
            self.token = tokens.pick_token(given, ShopUser._next_number)
        else:
            self.token = catalog.process_token(self.client)
        self.products = catalog.process_catalog(self.client, self.country_code)
        self.last_order: tuple[str, str] | None = None

    def wait_time(self) -> float:
        pause: float = self.pace(self)
        return pause

    # --- the requests, each named and judged --------------------------------------------------

    def read_product(self, scenario: str) -> None:
        product = random.choice(self.products.all_ids)
        self._expect(scenario, "product", "GET", f"/api/products/{product}", OK)

    def list_products(self, scenario: str) -> None:
        self._expect(scenario, "list", "GET", random.choice(catalog.LIST_QUERIES), OK)

    def read_me(self, scenario: str) -> None:
        self._expect(scenario, "me", "GET", "/auth/me", OK, token=self.token)

    def list_orders(self, scenario: str) -> None:
        self._expect(scenario, "my orders", "GET", "/api/orders?limit=5", OK, token=self.token)

    def place_order(self, scenario: str) -> None:
        product = random.choice(self.products.in_stock_ids)
        body = json.dumps({"items": [{"product_id": product, "quantity": 1}]})
        key = str(uuid.uuid4())
        self._expect(
            scenario, "place", "POST", "/api/orders", CREATED, token=self.token, body=body, key=key
        )
        self.last_order = (key, body)

    def replay_order(self, scenario: str) -> None:
        """Send the last order again with its key: the same order must come back, not a new one."""
        if self.last_order is None:
            self.place_order(scenario)
            return
        key, body = self.last_order
        with self._request("POST", "/api/orders", token=self.token, body=body, key=key) as answer:
            answer.request_meta["name"] = request_name(
                scenario, "replay", answer.headers.get("X-Cache")
            )
            problem = unexpected_status(answer.status_code, CREATED)
            if problem is None and answer.headers.get("Idempotent-Replayed") != "true":
                problem = "a replayed Idempotency-Key did not return the stored order"
            _judge(answer, problem)

    def send_bad_token(self, scenario: str) -> None:
        self._expect(
            scenario,
            "bad token",
            "GET",
            "/api/orders?limit=5",
            UNAUTHORIZED,
            token=tokens.tampered(self.token),
        )

    def send_from_blocked_country(self, scenario: str) -> None:
        path = random.choice(catalog.LIST_QUERIES)
        with self._request("GET", path, country=self.blocked_country_code) as answer:
            x_cache = answer.headers.get("X-Cache")
            answer.request_meta["name"] = request_name(scenario, "blocked country", x_cache)
            _judge(answer, geofence_refusal_failure(answer.status_code, x_cache))

    # --- plumbing -----------------------------------------------------------------------------

    def _expect(
        self,
        scenario: str,
        label: str,
        method: str,
        path: str,
        expected: frozenset[int],
        **options: Any,
    ) -> None:
        with self._request(method, path, **options) as answer:
            answer.request_meta["name"] = request_name(
                scenario, label, answer.headers.get("X-Cache")
            )
            _judge(answer, unexpected_status(answer.status_code, expected))

    def _request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: str | None = None,
        key: str | None = None,
        country: str | None = None,
    ) -> Any:
        headers = {"CF-IPCountry": country or self.country_code}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.request(method, path, data=body, headers=headers, catch_response=True)


def _judge(answer: Any, problem: str | None) -> None:
    if problem is None:
        answer.success()
    else:
        answer.failure(f"{problem}: {(answer.text or '')[:200]}")


class CatalogReader(ShopUser):
    """Public catalog reads: cacheable, so an edge answers most of them from its cache."""

    @tag("catalog")
    @task(4)
    def product(self) -> None:
        self.read_product("catalog")

    @tag("catalog")
    @task(1)
    def listing(self) -> None:
        self.list_products("catalog")


class PrivateReader(ShopUser):
    """Signed-in reads: private, so an edge checks the token and forwards them."""

    @tag("private")
    @task
    def me(self) -> None:
        self.read_me("private")

    @tag("private")
    @task
    def my_orders(self) -> None:
        self.list_orders("private")


class OrderWriter(ShopUser):
    """Order writes with idempotency keys; one in five replays the previous order's key."""

    @tag("orders")
    @task(4)
    def place(self) -> None:
        self.place_order("orders")

    @tag("orders")
    @task(1)
    def replay(self) -> None:
        self.replay_order("orders")


class RefusedRequests(ShopUser):
    """What an edge refuses on its own: a bad token (401), a blocked country (451)."""

    @tag("refusals")
    @task
    def bad_token(self) -> None:
        self.send_bad_token("refusals")

    @tag("refusals", "refuse-country")
    @task
    def blocked_country(self) -> None:
        self.send_from_blocked_country("refusals")


class Shopper(ShopUser):
    """A realistic mix: mostly browsing, some account pages, a few orders and refusals."""

    @tag("mix")
    @task(50)
    def product(self) -> None:
        self.read_product("mix")

    @tag("mix")
    @task(20)
    def listing(self) -> None:
        self.list_products("mix")

    @tag("mix")
    @task(10)
    def me(self) -> None:
        self.read_me("mix")

    @tag("mix")
    @task(8)
    def my_orders(self) -> None:
        self.list_orders("mix")

    @tag("mix")
    @task(5)
    def place(self) -> None:
        self.place_order("mix")

    @tag("mix")
    @task(4)
    def bad_token(self) -> None:
        self.send_bad_token("mix")

    @tag("mix", "refuse-country")
    @task(3)
    def blocked_country(self) -> None:
        self.send_from_blocked_country("mix")
