"""The purge dispatcher: the loop behind ``outpost purger``.

One pass: wait until the plan's budget allows a request, claim the next batch from the outbox,
send it, settle it. The retry state lives on the outbox rows (attempts, the time they are due
again), not in this process: it survives a crash, and a second dispatcher sees it. That is why
this is a small loop over explicit state rather than a retry library wrapped around the call
(tenacity, stamina): those keep the attempt count and the wait in memory, holding the batch
while they sleep, which a crash would lose and a lease would have to outlast.

What each answer does (:mod:`origin.purge.cloudflare`):

- acknowledged: the batch's rows are deleted;
- ``429``: every request waits for ``Retry-After`` (the account's budget is spent, not just this
  batch's), and the rows are due again then; not counted as an attempt;
- ``5xx``, timeout, broken connection: the rows back off, doubling from
  ``OUTPOST_PURGE_BACKOFF`` up to ``OUTPOST_PURGE_BACKOFF_MAX``, with jitter;
- a refusal (a bad token): the same back-off, logged as an error and counted as a failure; the
  purges stay queued until the cause is fixed, then go out on their own.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import timedelta
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from origin.db.types import utcnow
from origin.purge import outbox
from origin.purge.cloudflare import Acknowledged, Outcome, RateLimited, Refused, Retryable
from origin.purge.limits import RequestBudget
from origin.purge.metrics import PurgeMetrics
from origin.purge.outbox import Batch
from origin.purge.settings import PurgeSettings

logger = logging.getLogger("outpost.purger")


class Purger(Protocol):
    async def purge_tags(self, tags: Sequence[str]) -> Outcome: ...


class Dispatcher:
    """Delivers the outbox's purges through ``purger`` until told to stop."""

    def __init__(
        self,
        engine: AsyncEngine,
        purger: Purger,
        settings: PurgeSettings,
        metrics: PurgeMetrics,
        *,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._engine = engine
        self._purger = purger
        self._settings = settings
        self._metrics = metrics
        self._budget = RequestBudget(settings.limits)
        self._jitter = jitter

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; a request under way is finished and settled first."""
        while not stop.is_set():
            try:
                await self._refresh_backlog()
                wait = self._budget.wait_seconds()
                if wait > 0:
                    await _sleep(wait, stop)
                    continue
                if not await self.dispatch_once():
                    await _sleep(self._settings.poll_interval_seconds, stop)
            except (SQLAlchemyError, OSError) as error:
                # The database is away: nothing can be claimed or settled. Rows a batch held
                # come back when its lease runs out.
                logger.warning("purge outbox unreachable: %s", error)
                await _sleep(self._settings.poll_interval_seconds, stop)

    async def dispatch_once(self) -> bool:
        """Claim and deliver one batch; False when nothing was due."""
        batch = await outbox.claim(
            self._engine,
            max_tags=self._settings.limits.operations_per_request,
            lease_seconds=self._settings.lease_seconds,
        )
        if batch is None:
            return False
        self._budget.spend()
        await self._settle(batch, await self._purger.purge_tags(batch.tags))
        return True

    async def _settle(self, batch: Batch, outcome: Outcome) -> None:
        metrics = self._metrics
        if isinstance(outcome, Acknowledged):
            await outbox.acknowledge(self._engine, batch)
            now = utcnow()
            metrics.deliveries.inc()
            metrics.delivered_rows.inc(amount=batch.rows)
            for created_at in batch.created_at:
                metrics.delivery_seconds.observe(max(0.0, (now - created_at).total_seconds()))
            logger.info(
                "purged %d tags (%d queued purges) in Cloudflare request %s",
                len(batch.tags),
                batch.rows,
                outcome.purge_id,
            )
        elif isinstance(outcome, RateLimited):
            self._budget.hold_until(outcome.retry_after_seconds)
            await self._release(batch, outcome.retry_after_seconds, "429 rate limited", False)
            metrics.retries.inc(("rate_limited",))
            logger.warning(
                "Cloudflare rate-limited the purge; waiting %.1f s", outcome.retry_after_seconds
            )
        elif isinstance(outcome, Retryable):
            delay = self.backoff_seconds(batch.attempts + 1)
            await self._release(batch, delay, outcome.detail, True)
            metrics.retries.inc((outcome.reason,))
            logger.warning(
                "purge of %d tags failed (%s: %s); retrying in %.1f s",
                len(batch.tags),
                outcome.reason,
                outcome.detail,
                delay,
            )
        else:
            assert isinstance(outcome, Refused)
            delay = self.backoff_seconds(batch.attempts + 1)
            await self._release(batch, delay, outcome.detail, True)
            metrics.failures.inc((outcome.reason,))
            logger.error(
                "Cloudflare refused the purge of %d tags (%s: %s); they stay queued, next try "
                "in %.1f s",
                len(batch.tags),
                outcome.reason,
                outcome.detail,
                delay,
            )

    def backoff_seconds(self, attempt: int) -> float:
        """The wait after the ``attempt``-th failure: doubling, capped, between half and all
        of it at random so that dispatchers do not retry in step."""
        first = self._settings.backoff_first_seconds
        longest = self._settings.backoff_longest_seconds
        full: float = min(longest, first * 2.0 ** min(max(attempt - 1, 0), 30))
        return full * (0.5 + self._jitter() / 2)

    async def _release(self, batch: Batch, delay: float, error: str, count: bool) -> None:
        await outbox.release(
            self._engine,
            batch,
            retry_at=utcnow() + timedelta(seconds=delay),
            error=error,
            count_attempt=count,
        )

    async def _refresh_backlog(self) -> None:
        backlog = await outbox.backlog(self._engine)
        self._metrics.depth.set(backlog.depth)
        self._metrics.oldest_age.set(backlog.oldest_age_seconds(utcnow()))


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    """Sleep, but wake at once when ``stop`` is set."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
