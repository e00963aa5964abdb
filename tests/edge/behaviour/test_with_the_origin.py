"""The edge in front of the real origin app: its catalog is cached and purged by its own writes,
its private answers are never shared, and it accepts the edge's assertions as the caller."""

from __future__ import annotations

import uuid  # template:demo

from tests.data.hostile import nested_documents
from tests.edge.behaviour.conftest import EdgeUnderTest
from tests.edge.support.tokens import mint

EU = {"CF-IPCountry": "DE"}


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
