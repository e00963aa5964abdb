"""Purge delivery: time from a write's commit to Cloudflare's acknowledgement, and the queue when
writes outrun the plan's purge rate.

Writes commit at a steady rate in this process (each a write transaction that records its purge
in the outbox, as the origin's routes do); a real ``outpost purger`` process delivers them to the
local Cloudflare contract server (``tests/support/cloudflare_api.py``, which stamps each request's
arrival). A write's delivery time is from its commit to the answer of the first acknowledged
request that carried its tag and arrived after the commit.

Scenarios (each on a new database; ``--database postgres`` uses ``TEST_POSTGRES_URL``):

- ``pro``: 10 writes/s under the Pro plan's limits (5 requests/s, bucket 25), each write its own
  product: commit-to-acknowledgement p50/p99 (after 5 s, so the purger's start is not counted);
- ``free``: 1 write/s under the Free plan (5 requests/min, bucket 25), measured after a warm-up
  that spends the bucket, as a shop that purges all day sees it;
- ``overload``: 40 writes/s over a 300-product catalog under the Free plan: far more purges than
  requests; the queue's depth, distinct tags and oldest age sampled over time must level off.

    python benchmarks/purge_latency.py [--scenario pro|free|overload|all]
                                       [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scratch_postgres import fresh_database
from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from origin.db import create_engine, session_factory, upgrade
from origin.db.types import utcnow
from origin.purge.models import PURGE_OUTBOX
from origin.purge.outbox import backlog, purge_on_commit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.cloudflare_api import (  # noqa: E402
    TOKEN,
    ZONE_ID,
    CloudflareApi,
    running_cloudflare_api,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    plan: str
    writes_per_second: float
    seconds: float
    warm_up_seconds: float = 0.0
    catalog: int | None = None  # None: every write its own product


SCENARIOS = {
    # The warm-up also covers the purger's start (about 2 s), which would count as delay.
    "pro": Scenario("pro", "pro", writes_per_second=10, seconds=30, warm_up_seconds=5),
    "free": Scenario("free", "free", writes_per_second=1, seconds=60, warm_up_seconds=30),
    "overload": Scenario("overload", "free", writes_per_second=40, seconds=90, catalog=300),
}


@dataclass
class Write:
    tag: str
    committed: float  # time.time()
    measured: bool


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'purge-bench.db'}"
        return
    with fresh_database(f"outpost_purge_bench_{secrets.token_hex(4)}") as url:
        yield url


@contextmanager
def purger(api: CloudflareApi, database_url: str, plan: str) -> Iterator[None]:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("CLOUDFLARE_")},
        "DATABASE_URL": database_url,
        "CLOUDFLARE_API_TOKEN": TOKEN,
        "CLOUDFLARE_ZONE_ID": ZONE_ID,
        "OUTPOST_PURGE_API_URL": api.api_url,
        "OUTPOST_PURGE_PLAN": plan,
        "OUTPOST_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "commands", "purger"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


async def run(scenario: Scenario, database_url: str, api: CloudflareApi) -> list[str]:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    writes: list[Write] = []
    samples: list[str] = []
    interval = 1 / scenario.writes_per_second
    total = scenario.warm_up_seconds + scenario.seconds
    start = time.monotonic()
    next_sample = start
    number = 0
    try:
        while (elapsed := time.monotonic() - start) < total:
            product = number if scenario.catalog is None else number % scenario.catalog
            tag = f"product:{product}"
            async with sessions() as session:
                purge_on_commit(session, ["products", tag])
                await session.commit()
            writes.append(Write(tag, time.time(), elapsed >= scenario.warm_up_seconds))
            number += 1
            if scenario.catalog is not None and time.monotonic() >= next_sample:
                samples.append(await _sample(engine, time.monotonic() - start))
                next_sample += 10
            await asyncio.sleep(max(0.0, start + number * interval - time.monotonic()))
        await _drain(engine, within=180)
    finally:
        await engine.dispose()
    if samples:
        samples.insert(0, "  | elapsed | queued rows | distinct tags | oldest waits |")
    return _report(scenario, writes, api) + samples


async def _sample(engine: AsyncEngine, at: float) -> str:
    state = await backlog(engine)
    async with engine.connect() as connection:
        tags = (
            await connection.execute(select(func.count(distinct(PURGE_OUTBOX.c.tag))))
        ).scalar_one()
    age = state.oldest_age_seconds(utcnow())
    return f"  | {at:5.0f} s | {state.depth} | {tags} | {age:.1f} s |"


async def _drain(engine: AsyncEngine, within: float) -> None:
    """Wait (polling the outbox) until every purge is delivered, or ``within`` seconds."""
    deadline = time.monotonic() + within
    while (await backlog(engine)).depth and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.5)


def _report(scenario: Scenario, writes: list[Write], api: CloudflareApi) -> list[str]:
    acks = sorted(api.acknowledged(), key=lambda request: request.arrived)
    delays = []
    for write in (write for write in writes if write.measured):
        answered = next(
            (ack.at for ack in acks if ack.arrived >= write.committed and write.tag in ack.tags),
            None,
        )
        if answered is not None:
            delays.append(answered - write.committed)
    measured = sum(1 for write in writes if write.measured)
    quantiles = statistics.quantiles(delays, n=100) if len(delays) > 1 else [0.0] * 99
    requests = [ack for ack in acks if ack.arrived >= writes[0].committed]
    return [
        f"scenario {scenario.name}: plan {scenario.plan}, {scenario.writes_per_second:g} "
        f"writes/s for {scenario.seconds:g} s"
        + (f" after {scenario.warm_up_seconds:g} s warm-up" if scenario.warm_up_seconds else ""),
        f"  writes measured {measured}, delivered {len(delays)}; purge requests {len(requests)}"
        f" (tags per request: median {statistics.median(len(r.tags) for r in requests):g}, "
        f"max {max(len(r.tags) for r in requests)})",
        f"  commit to acknowledgement: p50 {quantiles[49]:.2f} s, p99 {quantiles[98]:.2f} s, "
        f"max {max(delays):.2f} s",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    for name in names:
        scenario = SCENARIOS[name]
        with database(args.database) as url, running_cloudflare_api() as api:
            asyncio.run(upgrade(url))
            with purger(api, url, scenario.plan):
                lines = asyncio.run(run(scenario, url, api))
        print(f"[{args.database}]", *lines, sep="\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
