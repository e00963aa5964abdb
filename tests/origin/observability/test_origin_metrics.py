# template:demo-only
"""What the origin exports beyond HTTP requests: the store's reads and outages, idempotent
replays and the database pool, read from ``/metrics`` of the real app on both databases (the
requests are the demo's product reads and orders)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from origin.db.engine import create_engine
from origin.observability.metrics import Registry
from origin.observability.origin_metrics import OriginMetrics
from tests.origin.conftest import AppClient, Caller, order
from tests.support.metrics import sample_sum, samples
from tests.support.ports import closed_port_url

pytestmark = pytest.mark.anyio


async def scrape(client: httpx.AsyncClient, caller: Caller) -> str:
    """``/metrics`` as an administrator (the route table keeps it to them)."""
    principal = caller.principal
    caller.becomes("operator", "admin")
    response = await client.get("/metrics")
    caller.principal = principal
    assert response.status_code == 200
    return response.text


async def test_store_reads_are_counted_as_hits_and_misses(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    before = await scrape(client, caller)
    await client.get("/api/products/1")  # miss, then stored
    await client.get("/api/products/1")  # hit
    after = await scrape(client, caller)

    for result in ("hit", "miss"):
        grew = sample_sum(after, "outpost_store_reads_total", store="memory", result=result)
        assert grew - sample_sum(before, "outpost_store_reads_total", result=result) >= 1


async def test_operations_answered_without_redis_are_counted_as_degraded(
    app_client: AppClient, seeded_url: str, caller: Caller
) -> None:
    async with app_client(seeded_url, redis_url=closed_port_url("redis")) as client:
        served = [(await client.get("/api/products/1")).status_code for _ in range(3)]
        metrics = await scrape(client, caller)

    assert served == [200, 200, 200]
    assert sample_sum(metrics, "outpost_store_degraded_total", store="redis") >= 3
    assert sample_sum(metrics, "outpost_store_errors_total", store="redis") >= 1


async def test_idempotent_replays_are_counted(
    app_client: AppClient, seeded_url: str, caller: Caller
) -> None:
    caller.becomes("alice", "customer")
    async with app_client(seeded_url) as client:
        first = await order(client, "key-1")
        retries = [await order(client, "key-1") for _ in range(2)]
        metrics = await scrape(client, caller)

    assert first.status_code == 201
    assert [retry.headers["idempotent-replayed"] for retry in retries] == ["true", "true"]
    assert sample_sum(metrics, "outpost_idempotent_replays_total") == 2


async def test_the_pool_gauges_follow_checkouts(migrated_url: str) -> None:
    registry = Registry(process_collectors=False)
    metrics = OriginMetrics(registry)
    engine = create_engine(migrated_url)
    metrics.watch_pool(engine)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            during = samples(registry.render())
        after = samples(registry.render())
    finally:
        await engine.dispose()

    assert during[("outpost_db_pool_connections_in_use", ())] == 1
    assert after[("outpost_db_pool_connections_in_use", ())] == 0
    assert after[("outpost_db_pool_size", ())] >= 1


async def test_the_app_exports_the_pool_and_the_process(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    await client.get("/api/products/1")
    metrics = samples(await scrape(client, caller))

    assert metrics[("outpost_db_pool_connections_in_use", ())] == 0
    assert metrics[("outpost_db_pool_size", ())] >= 1
    assert metrics[("outpost_worker_up", ())] == 1
    assert any(name == "process_cpu_seconds_total" for name, _ in metrics)
