"""The edge in front of the real origin app: its catalog is cached and purged by its own writes,
its private answers are never shared, and it accepts the edge's assertions as the caller."""

from __future__ import annotations

import uuid

import httpx

from tests.data.hostile import nested_documents
from tests.edge.behaviour.conftest import EdgeUnderTest
from tests.edge.support.tokens import mint

EU = {"CF-IPCountry": "DE"}
# Above the origin's default sign-in budget per address (100 per 5 minutes).
MAX_ATTEMPTS_TO_EXHAUST = 150


def bearer(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(subject, *roles)}", **EU}


# template:demo-begin
def test_the_catalog_is_served_from_the_edge_after_the_first_read(
    origin_edge: EdgeUnderTest,
) -> None:
    first = origin_edge.client.get("/api/products/2")
    second = origin_edge.client.get("/api/products/2")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["x-cache"] in ("MISS", "HIT")
    assert second.headers["x-cache"] == "HIT"
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"]


# template:demo-end
# template:demo-begin
def test_a_catalog_change_purges_the_edge_copies_through_purge_tags(
    origin_edge: EdgeUnderTest,
) -> None:
    product, listing = "/api/products/4", "/api/products?limit=7"
    before = origin_edge.client.get(product).json()
    origin_edge.client.get(listing)
    assert origin_edge.client.get(product).headers["x-cache"] == "HIT"
    assert origin_edge.client.get(listing).headers["x-cache"] == "HIT"

    changed = origin_edge.client.patch(
        product, json={"price_cents": before["price_cents"] + 1}, headers=bearer("ada", "admin")
    )

    assert changed.status_code == 200
    assert "purge-tags" not in changed.headers
    after = origin_edge.client.get(product)
    assert after.headers["x-cache"] == "MISS"
    assert after.json()["price_cents"] == before["price_cents"] + 1
    assert origin_edge.client.get(listing).headers["x-cache"] == "MISS"  # tag "products"


# template:demo-end
# template:demo-begin
def test_private_orders_are_never_served_to_another_customer(
    origin_edge: EdgeUnderTest,
) -> None:
    alice, bob = f"alice-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:8]}"
    placed = origin_edge.client.post(
        "/api/orders",
        json={"items": [{"product_id": 1, "quantity": 1}]},
        headers={**bearer(alice, "customer"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]

    alice_view = origin_edge.client.get("/api/orders", headers=bearer(alice, "customer"))
    bob_view = origin_edge.client.get("/api/orders", headers=bearer(bob, "customer"))
    bob_direct = origin_edge.client.get(f"/api/orders/{order_id}", headers=bearer(bob, "customer"))

    assert [order["id"] for order in alice_view.json()["items"]] == [order_id]
    assert bob_view.json()["items"] == []
    assert bob_direct.status_code == 404
    assert {alice_view.headers["x-cache"], bob_view.headers["x-cache"]} == {"BYPASS"}


# template:demo-end
def test_the_origin_knows_the_caller_the_edge_vouched_for(origin_edge: EdgeUnderTest) -> None:
    response = origin_edge.client.get("/auth/me", headers=bearer("carol", "customer"))

    assert response.status_code == 200, response.text
    assert "carol" in response.text


def signed_in(edge: EdgeUnderTest) -> str:
    """A new account registered and signed in through the edge: its access token."""
    email = f"{uuid.uuid4().hex}@example.com"
    password = "correct horse battery staple"
    registered = edge.client.post("/auth/register", json={"email": email, "password": password})
    assert registered.status_code == 202, registered.text
    token = edge.client.post(
        "/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    assert token.status_code == 200, token.text
    access_token: str = token.json()["access_token"]
    return access_token


def test_a_signed_out_token_stays_refused_whatever_headers_the_client_has_the_edge_drop(
    origin_edge: EdgeUnderTest,
) -> None:
    """The edge drops what ``Connection`` names (RFC 9110 §7.6.1), Authorization included; the
    assertion carries the session, so the origin still knows it was revoked."""
    token = signed_in(origin_edge)
    auth = {"Authorization": f"Bearer {token}", **EU}
    assert origin_edge.client.get("/auth/me", headers=auth).status_code == 200
    assert origin_edge.client.post("/auth/logout", headers=auth).status_code == 204

    refused = [
        origin_edge.client.get("/auth/me", headers={**auth, "Connection": hop})
        for hop in ("authorization", "keep-alive, Authorization", "AUTHORIZATION")
    ]
    assert [response.status_code for response in refused] == [401, 401, 401]
    # template:demo-begin
    order = origin_edge.client.post(
        "/api/orders",
        json={"items": [{"product_id": 1, "quantity": 1}]},
        headers={**auth, "Connection": "authorization", "Idempotency-Key": uuid.uuid4().hex},
    )
    assert order.status_code == 401
    # template:demo-end


def client_at(edge: EdgeUnderTest, address: str) -> httpx.Client:
    """A client of ``edge`` connecting from ``address`` (any 127.0.0.0/8 address is local)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=edge.url, transport=transport, timeout=30.0)


def test_one_client_spending_its_sign_in_budget_does_not_lock_out_another(
    origin_edge: EdgeUnderTest,
) -> None:
    """Behind an edge every request comes from the edge's address: the sign-in budget must be
    the client's, as the edge vouches for it, never the proxy's."""
    email = f"{uuid.uuid4().hex}@example.com"
    password = "correct horse battery staple"
    registered = origin_edge.client.post(
        "/auth/register", json={"email": email, "password": password}
    )
    assert registered.status_code == 202
    with (
        client_at(origin_edge, "127.0.0.2") as attacker,
        client_at(origin_edge, "127.0.0.3") as user,
    ):
        statuses = []
        for _ in range(MAX_ATTEMPTS_TO_EXHAUST):
            guess = attacker.post(
                "/auth/token",
                data={
                    "grant_type": "password",
                    "username": f"{uuid.uuid4().hex}@x.test",
                    "password": "wrong wrong wrong",
                },
            )
            statuses.append(guess.status_code)
            if guess.status_code == 429:
                break
        signed_in = user.post(
            "/auth/token", data={"grant_type": "password", "username": email, "password": password}
        )

    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) <= {400, 401}
    assert signed_in.status_code == 200, signed_in.text


def test_deeply_nested_json_through_the_edge_is_the_origins_400(
    origin_edge: EdgeUnderTest,
) -> None:
    json_body = {"Content-Type": "application/json", **EU}
    answers = {
        document.name: origin_edge.client.post(
            "/auth/register", content=document.text.encode(), headers=json_body
        )
        for document in nested_documents()
    }

    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert set(statuses.values()) == {400}, statuses
    assert {answer.json()["error"]["code"] for answer in answers.values()} == {"invalid_json"}
