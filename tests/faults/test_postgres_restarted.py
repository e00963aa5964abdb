# template:demo-only
"""PostgreSQL restarts (a failover, a minor-version upgrade) while orders flow through the edge.

What a client may see: during the outage, a quick 503 JSON with ``Retry-After`` (never a hang,
never a 500). What must hold: the origin recovers by itself once the database is back, without a
restart of its own, and no order a client was told about is lost or doubled.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.faults.ledger import (
    COUNTRY,
    OrderLedger,
    acknowledged_at_least,
    keep_ordering,
    stock_levels,
)
from tests.faults.stack import FaultStack, StackOptions
from tests.support.postgres_server import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

OUTAGE_ANSWER_WITHIN_SECONDS = 5.0  # a refused connection answers at once; this leaves noise room
RECOVERY_WITHIN_SECONDS = 30.0
OUTAGE_PROBES = 5


async def test_a_postgres_restart_costs_quick_503s_and_no_acknowledged_order(
    private_postgres: PostgresServer, tmp_path: Path
) -> None:
    url = private_postgres.url
    async with FaultStack(StackOptions(database_url=url), tmp_path) as stack:
        stock_before = await stock_levels(url)
        ledger = OrderLedger(stack.edge_url, stack.tokens)
        stop = asyncio.Event()
        load = asyncio.create_task(keep_ordering(ledger, stop, writers=6))
        await acknowledged_at_least(ledger, 20, within_seconds=60)

        await asyncio.to_thread(private_postgres.stop, "fast")
        down_at = time.monotonic()
        async with ledger.client() as client:
            for _ in range(OUTAGE_PROBES):
                await ledger.place(client, ledger.new_order())
            read = await client.get(
                "/api/orders?limit=5",
                headers={"Authorization": f"Bearer {stack.tokens[0]}", "CF-IPCountry": COUNTRY},
            )
        # The outage is over once the server is asked to start: it accepts connections a
        # little before `pg_ctl start --wait` returns, and an order may succeed in between.
        restart_at = time.monotonic()
        await asyncio.to_thread(private_postgres.start)
        up_at = time.monotonic()

        await acknowledged_at_least(ledger, 20, within_seconds=RECOVERY_WITHIN_SECONDS)
        stop.set()
        await load
        await ledger.settle()
        await ledger.verify(url, stock_before)

    assert not ledger.unclean(), ledger.unclean()
    during = [
        a for a in ledger.attempts if down_at <= a.started and a.started + a.elapsed < restart_at
    ]
    refused = [a for a in during if not a.acknowledged]
    assert len(refused) >= OUTAGE_PROBES
    assert {a.status for a in refused} == {503}, refused
    assert {a.code for a in refused} == {"database_unavailable"}, refused
    assert max(a.elapsed for a in during) < OUTAGE_ANSWER_WITHIN_SECONDS, during
    # An order answered during the outage can only be a replay the store kept from before: its
    # key was sent before (its first answer may have been lost with the connection the restart
    # cut, while the order and its stored answer had committed).
    sent_before = {a.key for a in ledger.attempts if a.started < down_at}
    new_during = {a.key for a in during if a.acknowledged} - sent_before
    assert not new_during, [a for a in ledger.attempts if a.key in new_during]
    assert read.status_code == 503
    assert read.json()["error"]["code"] == "database_unavailable"
    assert int(read.headers["retry-after"]) >= 1
    recovered = [a for a in ledger.attempts if a.started > up_at and a.acknowledged]
    assert recovered, "no order succeeded after PostgreSQL came back"
