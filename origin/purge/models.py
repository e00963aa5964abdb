"""The purge outbox: one row per tag a committed write invalidated, until Cloudflare has it.

Rows are only ever inserted by writers (no row is updated by a write, so concurrent writes that
touch the same tag never wait on each other) and deleted by the dispatcher once a purge of their
tag was acknowledged. ``available_at`` is when a dispatcher may next take the row: its insertion
time, the end of a dispatcher's lease while one holds it, the end of the back-off after a failed
attempt. ``claimed_by`` names the claim that holds it (None once released).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, Table
from sqlmodel import Field, SQLModel

import origin.db.metadata  # noqa: F401  (the naming convention must precede every table)
from origin.db.types import UTCDateTime, utcnow

# Cloudflare's limit on one tag in a purge request (docs: "Purge cache by cache-tags").
TAG_MAX = 1024
CLAIM_MAX = 32
ERROR_MAX = 500


class PurgeOutboxRow(SQLModel, table=True):
    __tablename__ = "purge_outbox"
    __table_args__ = (
        # The dispatcher's question: which rows are due, oldest first.
        Index("ix_purge_outbox_available_at", "available_at"),
        Index("ix_purge_outbox_tag", "tag"),
        Index("ix_purge_outbox_claimed_by", "claimed_by"),
    )

    # 64-bit on PostgreSQL: a busy shop inserts a row per tag per write. SQLite's rowid is
    # 64-bit already, and only INTEGER PRIMARY KEY makes it the row's id.
    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),
    )
    tag: str = Field(max_length=TAG_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    available_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=CLAIM_MAX)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=ERROR_MAX)


PURGE_OUTBOX: Table = PurgeOutboxRow.__table__  # type: ignore[attr-defined]
