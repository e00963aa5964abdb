"""The ``outpost purger`` process: the dispatcher with its database, its client and its metrics.

It is a process of its own rather than a task inside each origin worker: the plan's budget
(Free: 5 requests a minute) belongs to the account, so one sender spends it best, and a slow or
failing Cloudflare then costs the origin nothing (no event-loop time, no connections, no
readiness). Scaling the origin does not multiply senders. Running two purgers (a rolling deploy,
a mistake) stays correct: claims skip each other's rows and leases hand a dead one's rows over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from origin.db.engine import create_engine
from origin.db.migrate import ensure_migrated
from origin.db.types import utcnow
from origin.observability.metrics import REGISTRY, metrics_route
from origin.purge import outbox
from origin.purge.cloudflare import CloudflarePurger
from origin.purge.dispatcher import Dispatcher
from origin.purge.metrics import PurgeMetrics
from origin.settings import Settings

logger = logging.getLogger("outpost.purger")


def off_notice(settings: Settings) -> str | None:
    """The one line saying why purging is off, or None when it is on."""
    if settings.purge.enabled:
        return None
    return (
        f"purger: off ({' and '.join(settings.purge.missing)} not set): writes record no "
        "purges; cached copies in other Cloudflare locations expire on their own"
    )


def start_notice(settings: Settings) -> str:
    purge = settings.purge
    limits = purge.limits
    return (
        f"purger: delivering purges for zone {purge.zone_id} to {purge.api_url} "
        f"(plan {purge.plan}: {limits.requests_per_minute:g} requests/min, bucket "
        f"{limits.bucket}, {limits.operations_per_request} tags/request)"
    )


async def run_purger(
    settings: Settings, stop: asyncio.Event, *, announce: Callable[[str], Any] = print
) -> None:
    """Deliver purges until ``stop`` is set (serving ``/metrics`` when a port is configured)."""
    engine = create_engine(settings.database_url, pool_size=2, max_overflow=2)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        await ensure_migrated(engine)
        purger = CloudflarePurger(settings.purge)
        stack.push_async_callback(purger.aclose)
        dispatcher = Dispatcher(engine, purger, settings.purge, PurgeMetrics(REGISTRY))
        tasks = [asyncio.ensure_future(dispatcher.run(stop))]
        if settings.purge.metrics_port is not None:
            tasks.append(asyncio.ensure_future(_serve_metrics(settings, stop.wait)))
        announce(start_notice(settings))
        await asyncio.gather(*tasks)


async def status(settings: Settings) -> str:
    """The outbox's state, for a person looking at a stuck queue."""
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        await ensure_migrated(engine)
        backlog = await outbox.backlog(engine)
    finally:
        await engine.dispose()
    lines = [
        f"queued purges:  {backlog.depth}",
        f"oldest waits:   {backlog.oldest_age_seconds(utcnow()):.1f} s",
        f"failed before:  {backlog.retrying} (most attempts: {backlog.most_attempts})",
    ]
    if backlog.last_error is not None:
        lines.append(f"last error:     {backlog.last_error}")
    return "\n".join(lines)


async def _serve_metrics(settings: Settings, shutdown: Callable[[], Awaitable[Any]]) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
    from starlette.applications import Starlette

    config = Config()
    config.bind = [f"{settings.host}:{settings.purge.metrics_port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    app = Starlette(routes=[metrics_route(registry=REGISTRY)])
    await serve(app, config, shutdown_trigger=shutdown)  # type: ignore[arg-type]
