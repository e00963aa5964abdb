"""Fixtures for the purge outbox and its dispatcher: Cloudflare's contract server and settings
that point at it with clocks short enough for tests (no test waits on the real defaults)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.purge.limits import PlanLimits
from origin.purge.outbox import purge_on_commit
from origin.purge.settings import PurgeSettings
from tests.support.cloudflare_api import TOKEN, ZONE_ID, CloudflareApi, running_cloudflare_api

# Fast enough that a test never waits long, slow enough to tell "waited" from "did not".
FAST_LIMITS = PlanLimits(requests_per_second=50, bucket=50, operations_per_request=100)


@pytest.fixture
def cloudflare() -> Iterator[CloudflareApi]:
    with running_cloudflare_api() as api:
        yield api


def purge_settings(api: CloudflareApi, **overrides: Any) -> PurgeSettings:
    """Settings that deliver to ``api`` with short timings (``overrides`` replace fields)."""
    settings = PurgeSettings(
        api_token=TOKEN,
        zone_id=ZONE_ID,
        api_url=api.api_url,
        limits=FAST_LIMITS,
        poll_interval_seconds=0.05,
        lease_seconds=5.0,
        request_timeout_seconds=2.0,
        backoff_first_seconds=0.2,
        backoff_longest_seconds=1.0,
    )
    return replace(settings, **overrides)


def environment(api: CloudflareApi, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of an ``outpost purger`` process delivering to ``api``."""
    return {
        "DATABASE_URL": database_url,
        "CLOUDFLARE_API_TOKEN": TOKEN,
        "CLOUDFLARE_ZONE_ID": ZONE_ID,
        "OUTPOST_PURGE_API_URL": api.api_url,
        "OUTPOST_PURGE_REQUESTS_PER_MINUTE": "3000",
        "OUTPOST_PURGE_BUCKET": "50",
        "OUTPOST_PURGE_POLL_INTERVAL": "0.05",
        "OUTPOST_PURGE_TIMEOUT": "2",
        "OUTPOST_PURGE_LEASE": "3",
        "OUTPOST_PURGE_BACKOFF": "0.2",
        "OUTPOST_PURGE_BACKOFF_MAX": "1",
        "OUTPOST_LOG_LEVEL": "INFO",
        **extra,
    }


async def record(sessions: async_sessionmaker[AsyncSession], *writes: Iterable[str]) -> None:
    """Commit one write per argument, each invalidating its tags."""
    for tags in writes:
        async with sessions() as session:
            purge_on_commit(session, tags)
            await session.commit()
