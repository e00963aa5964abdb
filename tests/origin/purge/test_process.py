"""``outpost purger`` as it runs in production: real processes on SQLite and PostgreSQL, against
Cloudflare's contract server. A purge survives the dispatcher being killed between the write's
commit and Cloudflare's acknowledgement; two dispatchers at once deliver every purge, once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.purge.outbox import pending_tags
from tests.origin.purge.conftest import environment, record
from tests.support.cloudflare_api import Answer, CloudflareApi
from tests.support.ports import free_port

pytestmark = pytest.mark.anyio

OUTPOST = [sys.executable, "-m", "commands"]
WITHOUT_CLOUDFLARE = {
    name: value for name, value in os.environ.items() if not name.startswith("CLOUDFLARE_")
}


@contextmanager
def purger(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [*OUTPOST, "purger"],
            env={**WITHOUT_CLOUDFLARE, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def until_empty(engine: AsyncEngine, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while await pending_tags(engine):
        assert asyncio.get_running_loop().time() < deadline, "purges still queued"
        await asyncio.sleep(0.05)


def test_without_a_token_and_zone_it_says_it_is_off_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own CLI
        [*OUTPOST, "purger"],
        env={**WITHOUT_CLOUDFLARE, "DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert "off" in lines[0]
    assert "CLOUDFLARE_API_TOKEN" in lines[0]
    assert "CLOUDFLARE_ZONE_ID" in lines[0]


async def test_a_purge_survives_the_dispatcher_killed_before_cloudflare_acknowledged_it(
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    migrated_url: str,
    cloudflare: CloudflareApi,
    tmp_path: Path,
) -> None:
    await record(sessions, ["products", "product:7"])  # committed, not yet delivered
    cloudflare.answer_next(Answer(delay_seconds=30))  # the first request hangs
    metrics_port = free_port()
    env = environment(cloudflare, migrated_url, OUTPOST_PURGER_METRICS_PORT=str(metrics_port))

    with purger(env, tmp_path / "first.log") as first:
        await cloudflare.wait_for(1, within=30)  # the purge is on its way...
        first.send_signal(signal.SIGKILL)  # ...and its sender dies
        first.wait(timeout=10)
    assert await pending_tags(engine) == ["products", "product:7"]

    with purger(env, tmp_path / "second.log"):
        await until_empty(engine, within=30)
        async with httpx.AsyncClient() as client:
            scraped = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text

    delivered = [request for request in cloudflare.received()[1:] if request.status == 200]
    assert [request.tags for request in delivered] == [["products", "product:7"]]
    assert "outpost_purge_deliveries_total 1" in scraped
    assert "outpost_purge_outbox_depth" in scraped


async def test_two_dispatchers_at_once_deliver_every_purge_once(
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    migrated_url: str,
    cloudflare: CloudflareApi,
    tmp_path: Path,
) -> None:
    tags = [f"product:{number}" for number in range(400)]
    await record(sessions, *([tag] for tag in tags))
    # 10 tags a request, 8 requests a second each: either alone would take 5 s.
    env = environment(
        cloudflare,
        migrated_url,
        OUTPOST_PURGE_BATCH="10",
        OUTPOST_PURGE_REQUESTS_PER_MINUTE="480",
        OUTPOST_PURGE_BUCKET="1",
    )

    with purger(env, tmp_path / "a.log"), purger(env, tmp_path / "b.log"):
        await until_empty(engine, within=60)

    sent = Counter(cloudflare.acknowledged_tags())
    assert set(sent) == set(tags), "every purge at least once"
    assert [tag for tag, times in sent.items() if times > 1] == [], "and, here, only once"
    for log in ("a.log", "b.log"):
        assert b"purged" in (tmp_path / log).read_bytes(), f"{log}: both took part"
