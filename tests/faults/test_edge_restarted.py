# template:demo-only
"""The edge is restarted (SIGTERM, a deploy) or crashes (SIGKILL) while orders pass through it.

What a client may see: an order in flight finishes, or fails with a clean error (the edge's JSON,
or a connection closed before any answer began: never half an answer). What must hold: nothing
is half-written, and retrying every unanswered order with its key, once the new edge serves,
yields exactly one order per key.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from tests.faults.ledger import OrderLedger, acknowledged_at_least, keep_ordering, stock_levels
from tests.faults.stack import FaultStack, StackOptions

pytestmark = pytest.mark.anyio

# httpx's words for a connection that closed in the middle of an answer's body.
TRUNCATED_ANSWER = "complete message body"


@pytest.fixture
def backend() -> str:
    """SQLite only: the edge holds no state and the database is not what is tested here (the
    origin-kill test runs both)."""
    return "sqlite"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_an_edge_restart_leaves_no_order_half_written_or_doubled(
    signum: signal.Signals, migrated_url: str, tmp_path: Path
) -> None:
    async with FaultStack(StackOptions(database_url=migrated_url), tmp_path) as stack:
        stock_before = await stock_levels(migrated_url)
        ledger = OrderLedger(stack.edge_url, stack.tokens)
        stop = asyncio.Event()
        load = asyncio.create_task(keep_ordering(ledger, stop, writers=8, pause_seconds=0.0))
        await acknowledged_at_least(ledger, 30, within_seconds=60)

        stopped_at = time.monotonic()
        await stack.stop_edge(signum)
        await stack.start_edge()
        await acknowledged_at_least(ledger, 10, within_seconds=60)
        stop.set()
        await load
        await ledger.settle()
        await ledger.verify(migrated_url, stock_before)

    assert not ledger.unclean(), ledger.unclean()
    failed = [a for a in ledger.in_flight_at(stopped_at) if not a.acknowledged]
    truncated = [a for a in ledger.attempts if TRUNCATED_ANSWER in a.detail]
    assert not truncated, truncated
    assert all(a.status is None or a.status in (502, 503, 504) for a in failed), failed
