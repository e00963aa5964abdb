"""Databases migrated before the revisions were renumbered, brought onto the current chain.

The demo's schema used to come first (``0001`` demo shop, ``0002`` identity, ``0003`` purge
outbox), so an app without the demo had to rewrite its history. Now the generic schema comes
first (``identity``, ``purge_outbox``) and the demo's after it (``demo_shop``), under new
revision ids: an old id never names a different schema than it did.

A database still stamped with an old id holds the tables of the old revisions up to it.
:func:`renumber` applies what the new chain has that it lacks, in the new order, and stamps it
with the new revision that covers it, in the migration's own transaction; ``outpost db upgrade``
then carries on from there. Nothing is dropped or rebuilt.
"""

from __future__ import annotations

from typing import NamedTuple

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

OLD_REVISIONS: dict[str, tuple[str, ...]] = {
    # template:demo-begin
    "0001": ("demo_shop",),
    "0002": ("demo_shop", "identity"),
    "0003": ("demo_shop", "identity", "purge_outbox"),
    # template:demo-end
    # template:no-demo: "0002": ("identity",),
    # template:no-demo: "0003": ("identity", "purge_outbox"),
}
"""Each old revision id: the current revisions whose schema a database stamped with it holds,
in the order the old chain applied them."""


class CatchUp(NamedTuple):
    """What a database at an old revision needs to stand on the current chain."""

    apply: tuple[str, ...]
    """Current revisions to apply, oldest first: those the old chain did not have yet."""
    stamp: str
    """The current revision the database is then at."""


def catch_up(held: tuple[str, ...], chain: list[str]) -> CatchUp:
    """The revisions of ``chain`` (oldest first) up to the newest ``held``, minus ``held``."""
    newest = max(chain.index(revision) for revision in held)
    missing = tuple(revision for revision in chain[: newest + 1] if revision not in held)
    return CatchUp(missing, chain[newest])


def renumber(connection: Connection, scripts: ScriptDirectory) -> str | None:
    """Bring a database stamped with an old revision id onto the current chain; return the
    revision it was renumbered to (``None``: it was not at an old id, nothing changed)."""
    context = MigrationContext.configure(connection)
    current = context.get_current_revision()
    chain = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    if current is None or current not in OLD_REVISIONS or current in chain:
        return None
    plan = catch_up(OLD_REVISIONS[current], chain)
    with Operations.context(context):
        for revision in plan.apply:
            script = scripts.get_revision(revision)
            assert script is not None, revision
            script.module.upgrade()
    connection.execute(
        text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
        {"new": plan.stamp, "old": current},
    )
    return plan.stamp
