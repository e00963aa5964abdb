"""The purge outbox: tags committed writes invalidated, until Cloudflare acknowledged them.

Written by hand to match origin/purge/models.py (checked by the schema test). Until the
renumbering its id was ``0003`` (see origin/db/renumbered.py).

Revision ID: purge_outbox
Revises: identity
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "purge_outbox"
down_revision: str | Sequence[str] | None = "identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "purge_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("tag", sa.String(length=1024), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_outbox")),
    )
    op.create_index(op.f("ix_purge_outbox_available_at"), "purge_outbox", ["available_at"])
    op.create_index(op.f("ix_purge_outbox_tag"), "purge_outbox", ["tag"])
    op.create_index(op.f("ix_purge_outbox_claimed_by"), "purge_outbox", ["claimed_by"])


def downgrade() -> None:
    op.drop_index(op.f("ix_purge_outbox_claimed_by"), table_name="purge_outbox")
    op.drop_index(op.f("ix_purge_outbox_tag"), table_name="purge_outbox")
    op.drop_index(op.f("ix_purge_outbox_available_at"), table_name="purge_outbox")
    op.drop_table("purge_outbox")
