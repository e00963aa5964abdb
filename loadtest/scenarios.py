"""The demo shop's load-test scenarios: one Locust user class per scenario, each task tagged.

Every request is named ``scenario: request [X-Cache]`` (see :mod:`loadtest.naming`) and judged
against the status it should get, so refusals the edge is meant to give (401, 451) count as
successes and anything else as a failure. Select scenarios with ``--tags``::

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8787 --tags catalog
"""

from __future__ import annotations

import json
import random
import uuid

from locust import tag, task

from loadtest import catalog
from loadtest.naming import geofence_refusal_failure, request_name, unexpected_status
from loadtest.users import CREATED, OK, PacedUser, judge


class ShopUser(PacedUser):
    """What every shop scenario's user can do; a scenario is a choice and weighting of these."""

    abstract = True

    def on_start(self) -> None:
        super().on_start()
        self.products = catalog.process_catalog(self.client, self.country_code)
        self.last_order: tuple[str, str] | None = None

    # --- the shop's requests, each named and judged -------------------------------------------

    def read_product(self, scenario: str) -> None:
        product = random.choice(self.products.all_ids)
        self.expect(scenario, "product", "GET", f"/api/products/{product}", OK)

    def list_products(self, scenario: str) -> None:
        self.expect(scenario, "list", "GET", random.choice(catalog.LIST_QUERIES), OK)

    def list_orders(self, scenario: str) -> None:
        self.expect(scenario, "my orders", "GET", "/api/orders?limit=5", OK, token=self.token)

    def place_order(self, scenario: str) -> None:
        product = random.choice(self.products.in_stock_ids)
        body = json.dumps({"items": [{"product_id": product, "quantity": 1}]})
        key = str(uuid.uuid4())
        self.expect(
            scenario, "place", "POST", "/api/orders", CREATED, token=self.token, body=body, key=key
        )
        self.last_order = (key, body)

    def replay_order(self, scenario: str) -> None:
        """Send the last order again with its key: the same order must come back, not a new one."""
        if self.last_order is None:
            self.place_order(scenario)
            return
        key, body = self.last_order
        with self.send_request(
            "POST", "/api/orders", token=self.token, body=body, key=key
        ) as answer:
            answer.request_meta["name"] = request_name(
                scenario, "replay", answer.headers.get("X-Cache")
            )
            problem = unexpected_status(answer.status_code, CREATED)
            if problem is None and answer.headers.get("Idempotent-Replayed") != "true":
                problem = "a replayed Idempotency-Key did not return the stored order"
            judge(answer, problem)

    def send_bad_token(self, scenario: str, path: str = "/api/orders?limit=5") -> None:
        super().send_bad_token(scenario, path)

    def send_from_blocked_country(self, scenario: str) -> None:
        path = random.choice(catalog.LIST_QUERIES)
        with self.send_request("GET", path, country=self.blocked_country_code) as answer:
            x_cache = answer.headers.get("X-Cache")
            answer.request_meta["name"] = request_name(scenario, "blocked country", x_cache)
            judge(answer, geofence_refusal_failure(answer.status_code, x_cache))


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
