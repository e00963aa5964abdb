"""The purge outbox: recorded in the write's own transaction, taken and settled by dispatchers.

Recording. :func:`purge_on_commit` declares, on a session, tags its write invalidates; the rows
are inserted just before the session's next commit, in the transaction being committed (a
SQLAlchemy ``before_commit`` hook), so a committed write always has its purge recorded and a
write that rolls back never does. The data functions need not know: a route declares its tags
and calls them as it did (:func:`origin.http_cache.invalidating` does both).

Delivering. A dispatcher :func:`claim` s a batch: up to the plan's operations per request of the
tags that are due, oldest first, with every free row of those tags (duplicates coalesce into one
operation), leased to it for a while. Claiming is one write transaction that skips rows
another transaction holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a
time), so two dispatchers never take the same row while a lease lasts. Once Cloudflare
acknowledged the purge, :func:`acknowledge` deletes the batch's rows: rows committed before the
request was sent, so the purge reached Cloudflare after their write. A failed attempt is
:func:`release` d with a back-off; a dispatcher that dies leaves its lease to run out, and the
rows are taken again (delivery is at least once).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db.engine import WRITE_TRANSACTION
from origin.db.types import utcnow
from origin.purge.models import ERROR_MAX, PURGE_OUTBOX, TAG_MAX

_PENDING = "outpost_purge_tags"  # Session.info: tags to record at the next commit
# A batch takes at most this many rows, however many of its tags wait (bounds one statement).
MAX_ROWS_PER_CLAIM = 5000
# Due rows read to choose a batch's tags, per tag it may hold.
ROWS_READ_PER_TAG = 4


class InvalidTag(ValueError):
    """A tag Cloudflare's purge API could not take (a programming error in the route)."""


def check_tag(tag: str) -> str:
    """``tag`` if Cloudflare can purge it: 1 to 1,024 printable ASCII characters, no space or
    comma (``Cache-Tag`` separates tags with commas); :class:`InvalidTag` otherwise."""
    if not 1 <= len(tag) <= TAG_MAX:
        raise InvalidTag(f"a cache tag has 1 to {TAG_MAX} characters, got {len(tag)}")
    if not (tag.isascii() and tag.isprintable()) or " " in tag or "," in tag:
        raise InvalidTag(f"a cache tag is printable ASCII without spaces or commas: {tag!r}")
    return tag


def purge_on_commit(session: AsyncSession, tags: Iterable[str]) -> None:
    """Record a purge of ``tags`` in the outbox as part of ``session``'s next commit.

    Call it before the write. Nothing is recorded if the session never commits (the write
    failed and rolled back); tags declared twice are recorded once.
    """
    checked = [check_tag(tag) for tag in tags]
    sync_session = session.sync_session
    pending: list[str] | None = sync_session.info.get(_PENDING)
    if pending is None:
        pending = sync_session.info[_PENDING] = []
        event.listen(sync_session, "before_commit", _record_pending)
    pending.extend(tag for tag in checked if tag not in pending)


def _record_pending(session: Session) -> None:
    # Runs inside the commit, on the transaction's own connection (under asyncio, in the
    # greenlet that drives the commit, so blocking-style calls are fine here).
    pending: list[str] = session.info[_PENDING]
    tags = list(pending)
    pending.clear()
    if not tags:
        return
    now = utcnow()
    rows = [{"tag": tag, "created_at": now, "available_at": now, "attempts": 0} for tag in tags]
    session.connection().execute(insert(PURGE_OUTBOX), rows)


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows claimed together: one purge request for ``tags``."""

    claim: str
    tags: tuple[str, ...]
    created_at: tuple[datetime, ...]  # of each row, for the commit-to-acknowledgement time
    attempts: int  # the most any of its rows has had

    @property
    def rows(self) -> int:
        return len(self.created_at)


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits in the outbox: for metrics, ``/readyz`` and ``outpost purger --status``."""

    depth: int
    oldest_created_at: datetime | None
    retrying: int  # rows that failed at least once
    most_attempts: int
    last_error: str | None

    def oldest_age_seconds(self, now: datetime) -> float:
        if self.oldest_created_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_created_at).total_seconds())


async def claim(
    engine: AsyncEngine, *, max_tags: int, lease_seconds: float, now: datetime | None = None
) -> Batch | None:
    """Lease the next batch to a new claim, or None when nothing is due."""
    now = now or utcnow()
    claim_id = secrets.token_hex(8)
    async with engine.connect() as connection:
        writer = await connection.execution_options(**{WRITE_TRANSACTION: True})
        async with writer.begin():
            # The due rows nobody else is claiming right now, oldest first: a second dispatcher
            # claiming at the same moment gets the next rows, not nothing. A few rows per tag
            # are read, as writes share tags; what is left goes in the next batch.
            due = (
                select(PURGE_OUTBOX.c.tag)
                .where(PURGE_OUTBOX.c.available_at <= now)
                .order_by(PURGE_OUTBOX.c.id)
                .limit(max_tags * ROWS_READ_PER_TAG)
                .with_for_update(skip_locked=True)
            )
            due_tags = dict.fromkeys((await writer.execute(due)).scalars())
            tags = list(due_tags)[:max_tags]
            if not tags:
                return None
            # Every free row of those tags goes too, rows backing off included: the tag is sent
            # anyway. Rows another dispatcher holds (a live lease) stay with it.
            takeable = (
                select(PURGE_OUTBOX.c.id)
                .where(
                    PURGE_OUTBOX.c.tag.in_(tags),
                    or_(PURGE_OUTBOX.c.claimed_by.is_(None), PURGE_OUTBOX.c.available_at <= now),
                )
                .order_by(PURGE_OUTBOX.c.id)
                .limit(MAX_ROWS_PER_CLAIM)
                .with_for_update(skip_locked=True)
            )
            taken = (
                await writer.execute(
                    update(PURGE_OUTBOX)
                    .where(PURGE_OUTBOX.c.id.in_(takeable.scalar_subquery()))
                    .values(claimed_by=claim_id, available_at=now + _seconds(lease_seconds))
                    .returning(
                        PURGE_OUTBOX.c.id,
                        PURGE_OUTBOX.c.tag,
                        PURGE_OUTBOX.c.created_at,
                        PURGE_OUTBOX.c.attempts,
                    )
                )
            ).all()
    if not taken:  # another dispatcher took them between the two statements
        return None
    taken = sorted(taken, key=lambda row: row.id)  # RETURNING has no order; oldest tags first
    return Batch(
        claim=claim_id,
        tags=tuple(dict.fromkeys(row.tag for row in taken)),
        created_at=tuple(row.created_at for row in taken),
        attempts=max(row.attempts for row in taken),
    )


async def acknowledge(engine: AsyncEngine, batch: Batch) -> int:
    """Delete the batch's rows (Cloudflare has the purge); how many were still this claim's."""
    async with engine.begin() as connection:
        result = await connection.execute(
            PURGE_OUTBOX.delete().where(PURGE_OUTBOX.c.claimed_by == batch.claim)
        )
    return int(result.rowcount)


async def release(
    engine: AsyncEngine,
    batch: Batch,
    *,
    retry_at: datetime,
    error: str,
    count_attempt: bool = True,
) -> None:
    """Give the batch's rows back, due again at ``retry_at``, noting ``error``."""
    values: dict[str, Any] = {
        "claimed_by": None,
        "available_at": retry_at,
        "last_error": error[:ERROR_MAX],
    }
    if count_attempt:
        values["attempts"] = PURGE_OUTBOX.c.attempts + 1
    async with engine.begin() as connection:
        await connection.execute(
            update(PURGE_OUTBOX).where(PURGE_OUTBOX.c.claimed_by == batch.claim).values(**values)
        )


async def backlog(engine: AsyncEngine) -> Backlog:
    """Depth, oldest row and retry state of the outbox, in one query."""
    statement = select(
        func.count(),
        func.min(PURGE_OUTBOX.c.created_at),
        func.count().filter(PURGE_OUTBOX.c.attempts > 0),
        func.coalesce(func.max(PURGE_OUTBOX.c.attempts), 0),
    )
    async with engine.connect() as connection:
        depth, oldest, retrying, most = (await connection.execute(statement)).one()
        last_error = (
            await connection.execute(
                select(PURGE_OUTBOX.c.last_error)
                .where(PURGE_OUTBOX.c.last_error.is_not(None))
                .order_by(PURGE_OUTBOX.c.available_at.desc())
                .limit(1)
            )
        ).scalar()
    return Backlog(
        depth=int(depth),
        oldest_created_at=oldest,
        retrying=int(retrying),
        most_attempts=int(most),
        last_error=last_error,
    )


async def oldest_age_seconds(engine: AsyncEngine, now: datetime | None = None) -> float:
    """Seconds since the oldest undelivered purge was committed (0 when none waits); reads one
    row by primary key, cheap enough for every ``/readyz``."""
    statement = select(PURGE_OUTBOX.c.created_at).order_by(PURGE_OUTBOX.c.id).limit(1)
    async with engine.connect() as connection:
        oldest = (await connection.execute(statement)).scalar()
    if oldest is None:
        return 0.0
    age: float = ((now or utcnow()) - oldest).total_seconds()
    return max(0.0, age)


READINESS_QUERY_SECONDS = 1.0


async def oldest_age_for_readiness(engine: AsyncEngine) -> float | None:
    """:func:`oldest_age_seconds` rounded to 0.1 s, or None if the database does not say in
    time: readiness reports it, it never depends on it."""
    try:
        age = await asyncio.wait_for(oldest_age_seconds(engine), READINESS_QUERY_SECONDS)
        return round(age, 1)
    except (TimeoutError, SQLAlchemyError, OSError):
        return None


async def pending_tags(engine: AsyncEngine) -> Sequence[str]:
    """Every row's tag, oldest first (for tests and ``--status``)."""
    statement = select(PURGE_OUTBOX.c.tag).order_by(PURGE_OUTBOX.c.id)
    async with engine.connect() as connection:
        return list((await connection.execute(statement)).scalars())


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
