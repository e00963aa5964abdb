# template:demo-only
"""The disk under a SQLite database fills up while orders come in through the edge.

What a client may see: writes answer 503 ``storage_full`` with ``Retry-After`` (never a 500);
reads keep working. What must hold: once space returns, writes succeed again without a restart,
the database passes ``PRAGMA integrity_check``, and no acknowledged order is lost or doubled.
The disk is a real filesystem of its own (a small tmpfs), filled with a real file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.faults.ledger import COUNTRY, OrderLedger, stock_levels
from tests.faults.stack import FaultStack, StackOptions

pytestmark = pytest.mark.anyio

ORDERS_BEFORE = 10
WRITES_WHILE_FULL = 5


def checkpoint_and_truncate_wal(database: Path) -> None:
    """Move the WAL's pages into the database and empty it, so the next write must grow the WAL
    (a write that fits a WAL already that big would not need the disk yet)."""
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as connection:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0, "a reader kept the WAL from being checkpointed"


def fill(disk: Path) -> Path:
    """Write a file until the filesystem has no byte left; the file, to delete later."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:  # unbuffered: nothing left to fail at close
        for chunk in (1 << 20, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while out.write(b"\0" * chunk):
                    pass
    probe = os.statvfs(disk)
    assert probe.f_bavail == 0, f"{probe.f_bavail} blocks still free"
    return filler


def integrity(database: Path) -> str:
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as connection:
        result: str = connection.execute("PRAGMA integrity_check").fetchone()[0]
    return result


async def read_orders(client: httpx.AsyncClient, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "CF-IPCountry": COUNTRY}
    return await client.get("/api/orders?limit=100", headers=headers)


async def test_a_full_disk_refuses_writes_with_503_keeps_reads_and_loses_nothing(
    small_disk: Path, tmp_path: Path
) -> None:
    database = small_disk / "outpost.db"
    url = f"sqlite:///{database}"
    async with FaultStack(StackOptions(database_url=url, users=1), tmp_path / "work") as stack:
        stock_before = await stock_levels(url)
        ledger = OrderLedger(stack.edge_url, stack.tokens)
        async with ledger.client() as client:
            before = [await ledger.place(client, ledger.new_order()) for _ in range(ORDERS_BEFORE)]

            checkpoint_and_truncate_wal(database)
            filler = fill(small_disk)
            while_full = [
                await ledger.place(client, ledger.new_order()) for _ in range(WRITES_WHILE_FULL)
            ]
            replay = await ledger.place(client, before[0].key)
            read_while_full = await read_orders(client, stack.tokens[0])

            filler.unlink()
            after = [await ledger.place(client, ledger.new_order()) for _ in range(ORDERS_BEFORE)]
        await ledger.settle()
        await ledger.verify(url, stock_before)
        checked = integrity(database)

    assert all(a.status == 201 for a in before), before
    assert not ledger.unclean(), ledger.unclean()
    assert {(a.status, a.code) for a in while_full} == {(503, "storage_full")}, while_full
    assert all(a.retry_after and int(a.retry_after) >= 1 for a in while_full), while_full
    assert replay.order_id == before[0].order_id, "a replay is a read: it works on a full disk"
    assert read_while_full.status_code == 200
    listed = {order["id"] for order in read_while_full.json()["items"]}
    assert {a.order_id for a in before} <= listed
    assert all(a.status == 201 for a in after), "writes resume without a restart once space returns"
    assert checked == "ok"
