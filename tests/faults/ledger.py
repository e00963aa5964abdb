# template:demo-only
"""What clients were told about their orders, compared with what the database kept.

Every order a fault test places goes through :class:`OrderLedger`, which remembers the body sent
under each ``Idempotency-Key`` and every answer. An answer is *acknowledged* when it carries an
order (201, or a 200 replay): the client was told the order exists. After the fault, the test
retries every key whose outcome the client never learned (a 502, a 503, a dropped connection),
exactly as a well-behaved client would, then :meth:`OrderLedger.verify` checks the database:

- no acknowledged order is missing, and each has the id the client was told;
- no key has two orders, and no order exists that no client sent;
- no order is half-written: it has its lines and its total is the sum of its lines;
- stock taken equals stock ordered, product by product: nothing charged twice, nothing taken for
  an order that does not exist.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from origin.db import create_engine
from origin.demo.models import ORDER_ITEMS, ORDERS, PRODUCTS

ORDERS_PATH = "/api/orders"
COUNTRY = "DE"  # a country the demo geofence lets order
PRODUCT_IDS = (1, 2, 3, 4, 5)
REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """One answer (or its absence) to one request."""

    key: str
    started: float  # time.monotonic() when sent
    status: int | None  # None: no HTTP answer at all (the connection failed or was dropped)
    code: str | None  # the error code of an error body; the exception's name without an answer
    elapsed: float
    order_id: int | None = None
    clean: bool = True  # False: a 5xx that is not our JSON error body, or a mangled answer
    detail: str = ""
    retry_after: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.order_id is not None


@dataclass
class SentOrder:
    token: str
    body: dict[str, Any]


@dataclass
class OrderLedger:
    base_url: str
    tokens: Sequence[str]
    sent: dict[str, SentOrder] = field(default_factory=dict)
    told: dict[str, int] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # one key told two different orders
    _turn: itertools.cycle[str] = field(init=False)
    _random: random.Random = field(default_factory=lambda: random.Random(16))

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(self.tokens)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=REQUEST_TIMEOUT_SECONDS)

    def new_order(self) -> str:
        """Draw a new order (a few products, a few of each) under a fresh key."""
        key = f"fault-{uuid.uuid4()}"
        products = self._random.sample(PRODUCT_IDS, self._random.randint(1, 2))
        items = [{"product_id": p, "quantity": self._random.randint(1, 3)} for p in products]
        self.sent[key] = SentOrder(next(self._turn), {"items": items})
        return key

    def next_key(self, replay_share: float) -> str:
        """Mostly a new order; with probability ``replay_share``, a key already answered with an
        order, sent again (what a client does when it lost the answer)."""
        if self.told and self._random.random() < replay_share:
            return self._random.choice(list(self.told))
        return self.new_order()

    async def place(self, client: httpx.AsyncClient, key: str) -> Attempt:
        """Send the order under ``key`` (again, for a retry) and record the answer."""
        order = self.sent[key]
        headers = {
            "Authorization": f"Bearer {order.token}",
            "Idempotency-Key": key,
            "CF-IPCountry": COUNTRY,
        }
        started = time.monotonic()
        try:
            response = await client.post(ORDERS_PATH, json=order.body, headers=headers)
        except httpx.TransportError as error:
            attempt = Attempt(
                key,
                started,
                None,
                type(error).__name__,
                time.monotonic() - started,
                detail=str(error),
            )
        else:
            attempt = self._judged(key, started, response)
        self.attempts.append(attempt)
        return attempt

    def _judged(self, key: str, started: float, response: httpx.Response) -> Attempt:
        elapsed = time.monotonic() - started
        try:
            body = response.json()
        except ValueError:
            return Attempt(
                key, started, response.status_code, None, elapsed, clean=False, detail="not JSON"
            )
        if response.status_code in (200, 201) and isinstance(body.get("id"), int):
            order_id: int = body["id"]
            earlier = self.told.setdefault(key, order_id)
            if earlier != order_id:
                self.conflicts.append(f"{key}: told order {earlier}, then order {order_id}")
            return Attempt(key, started, response.status_code, None, elapsed, order_id=order_id)
        error = body.get("error") if isinstance(body, dict) else None
        if not (
            isinstance(error, dict)
            and isinstance(error.get("code"), str)
            and isinstance(error.get("message"), str)
        ):
            return Attempt(
                key, started, response.status_code, None, elapsed, clean=False, detail=str(body)
            )
        clean = response.status_code != 500
        return Attempt(
            key,
            started,
            response.status_code,
            error["code"],
            elapsed,
            clean=clean,
            retry_after=response.headers.get("retry-after"),
        )

    def unknown(self) -> list[str]:
        """Keys whose client was never told an order exists."""
        return [key for key in self.sent if key not in self.told]

    def in_flight_at(self, instant: float) -> list[Attempt]:
        """Attempts sent before ``instant`` and answered after it."""
        return [a for a in self.attempts if a.started < instant < a.started + a.elapsed]

    def unclean(self) -> list[Attempt]:
        return [attempt for attempt in self.attempts if not attempt.clean]

    async def settle(self, within_seconds: float = 60.0) -> None:
        """Retry every unanswered key (same key, same body) until each has its order."""
        deadline = time.monotonic() + within_seconds
        async with self.client() as client:
            while pending := self.unknown():
                for key in pending:
                    await self.place(client, key)
                if self.unknown() and time.monotonic() > deadline:
                    raise AssertionError(
                        f"{len(self.unknown())} orders still unanswered after retrying for "
                        f"{within_seconds:g} s; last answers: {self.attempts[-3:]}"
                    )
                if self.unknown():
                    await asyncio.sleep(0.2)

    async def verify(self, database_url: str, stock_before: Mapping[int, int]) -> None:
        """Compare the database with what clients were told (see the module's docstring)."""
        assert not self.conflicts, self.conflicts
        orders, lines, stock_after = await _database_state(database_url)
        by_key: dict[str | None, list[Any]] = defaultdict(list)
        for row in orders:
            by_key[row.idempotency_key].append(row)

        twice = {key: [row.id for row in rows] for key, rows in by_key.items() if len(rows) > 1}
        assert not twice, f"keys with more than one order: {twice}"
        lost = {key: told for key, told in self.told.items() if key not in by_key}
        assert not lost, f"acknowledged orders missing from the database: {lost}"
        moved = {
            key: (told, by_key[key][0].id)
            for key, told in self.told.items()
            if by_key[key][0].id != told
        }
        assert not moved, f"orders whose id differs from what the client was told: {moved}"
        unsent = sorted(str(key) for key in by_key if key not in self.sent)
        assert not unsent, f"orders in the database that no client sent: {unsent}"

        lines_of: dict[int, list[Any]] = defaultdict(list)
        for line in lines:
            lines_of[line.order_id].append(line)
        for row in orders:
            assert lines_of[row.id], f"order {row.id} has no lines: half-written"
            total = sum(line.quantity * line.unit_price_cents for line in lines_of[row.id])
            assert row.total_cents == total, f"order {row.id}: total {row.total_cents} != {total}"
            sent_items = {
                (item["product_id"], item["quantity"])
                for item in self.sent[row.idempotency_key].body["items"]
            }
            kept_items = {(line.product_id, line.quantity) for line in lines_of[row.id]}
            assert kept_items == sent_items, f"order {row.id} holds {kept_items}, not {sent_items}"

        ordered = Counter[int]()
        for line in lines:
            ordered[line.product_id] += line.quantity
        taken = {pid: stock_before[pid] - stock_after[pid] for pid in stock_before}
        assert taken == {pid: ordered[pid] for pid in stock_before}, (
            f"stock taken {taken} differs from stock ordered {dict(ordered)}"
        )


async def stock_levels(database_url: str) -> dict[int, int]:
    _, _, stock = await _database_state(database_url)
    return stock


async def _database_state(database_url: str) -> tuple[list[Any], list[Any], dict[int, int]]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            orders = list((await connection.execute(select(ORDERS))).all())
            lines = list((await connection.execute(select(ORDER_ITEMS))).all())
            products = (await connection.execute(select(PRODUCTS.c.id, PRODUCTS.c.stock))).all()
    finally:
        await engine.dispose()
    return orders, lines, {row.id: row.stock for row in products}


async def keep_ordering(
    ledger: OrderLedger,
    stop: asyncio.Event,
    *,
    writers: int = 6,
    pause_seconds: float = 0.02,
    replay_share: float = 0.2,
) -> None:
    """``writers`` clients placing orders (and replaying one in five) until ``stop`` is set.

    The pause keeps a refused request from turning into a busy loop during an outage."""

    async def writer() -> None:
        async with ledger.client() as client:
            while not stop.is_set():
                await ledger.place(client, ledger.next_key(replay_share))
                await asyncio.sleep(pause_seconds)

    async with asyncio.TaskGroup() as group:
        for _ in range(writers):
            group.create_task(writer())


async def acknowledged_at_least(ledger: OrderLedger, count: int, within_seconds: float) -> None:
    """Poll until ``count`` more orders than now are acknowledged."""
    target = len(ledger.told) + count
    deadline = time.monotonic() + within_seconds
    while len(ledger.told) < target:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"only {len(ledger.told)} of {target} orders acknowledged within "
                f"{within_seconds:g} s; last answers: {ledger.attempts[-5:]}"
            )
        await asyncio.sleep(0.05)
