"""Migrations take an empty database to the schema the models describe, on SQLite and PostgreSQL.

Tests that change the schema or its recorded revision build on ``database_url`` (a database of
their own), never on the shared ``migrated_url``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from origin.db import (
    DatabaseNotMigrated,
    create_engine,
    current_revision,
    ensure_migrated,
    head_revision,
    upgrade,
)
from origin.db.migrate import alembic_config
from origin.db.renumbered import OLD_REVISIONS, CatchUp, catch_up
from origin.db.tables import load_tables

pytestmark = pytest.mark.anyio

APP_TABLES = {
    "products",  # template:demo
    "orders",  # template:demo
    "order_items",  # template:demo
    "user_accounts",
    "auth_sessions",
    "refresh_tokens",
    "purge_outbox",
}


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _table_names(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def _schema_differences(metadata: sa.MetaData) -> Any:
    def compare(connection: Connection) -> Any:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    return compare


async def test_upgrade_takes_an_empty_database_to_the_head_revision(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) is None

        await upgrade(database_url)

        assert await current_revision(engine) == head_revision()
        async with engine.connect() as connection:
            tables = await connection.run_sync(_table_names)
        assert tables == APP_TABLES | {"alembic_version"}
    finally:
        await engine.dispose()


async def test_upgrading_an_up_to_date_database_changes_nothing(migrated_url: str) -> None:
    await upgrade(migrated_url)

    engine = create_engine(migrated_url)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_concurrent_upgrades_of_one_database_both_succeed(database_url: str) -> None:
    await asyncio.gather(upgrade(database_url), upgrade(database_url))

    engine = create_engine(database_url)
    try:
        await ensure_migrated(engine)
    finally:
        await engine.dispose()


async def test_the_models_and_the_head_migration_describe_the_same_schema(
    migrated_url: str,
) -> None:
    engine = create_engine(migrated_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences(load_tables()))
    finally:
        await engine.dispose()

    assert differences == []


async def test_the_schema_comparison_notices_a_model_that_drifted(migrated_url: str) -> None:
    drifted = sa.MetaData()
    for table in load_tables().tables.values():
        table.to_metadata(drifted)
    drifted.tables["products"].c.sku.type = sa.String(80)  # template:demo
    sa.Index("ix_products_name", drifted.tables["products"].c.name)  # template:demo
    # template:no-demo: drifted.tables["user_accounts"].c.email.type = sa.String(80)
    # template:no-demo: sa.Index("ix_user_accounts_roles", drifted.tables["user_accounts"].c.roles)

    engine = create_engine(migrated_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences(drifted))
    finally:
        await engine.dispose()

    flat = [diff[0] if isinstance(diff, list) else diff for diff in differences]
    assert {entry[0] for entry in flat} == {"modify_type", "add_index"}


async def test_downgrading_to_base_removes_the_schema_and_upgrading_restores_it(
    database_url: str,
) -> None:
    def downgrade_to_base(connection: Connection) -> set[str]:
        with connection.begin():
            command.downgrade(alembic_config(connection), "base")
        return _table_names(connection)

    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            remaining = await connection.run_sync(downgrade_to_base)
        assert remaining & APP_TABLES == set()

        await upgrade(database_url)
        await ensure_migrated(engine)
    finally:
        await engine.dispose()


async def test_an_empty_database_is_refused_with_the_command_that_fixes_it(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(DatabaseNotMigrated) as raised:
            await ensure_migrated(engine)
    finally:
        await engine.dispose()

    message = str(raised.value)
    assert "no migration applied" in message
    assert "run `outpost db upgrade`" in message
    assert (raised.value.current, raised.value.head) == (None, head_revision())


async def test_a_database_at_an_unknown_revision_is_refused_without_suggesting_upgrade(
    database_url: str,
) -> None:
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00d'"))
        with pytest.raises(DatabaseNotMigrated) as raised:
            await ensure_migrated(engine)
    finally:
        await engine.dispose()

    message = str(raised.value)
    assert "at revision f00d, which this code does not know" in message
    assert "outpost db upgrade" not in message


async def test_a_migrated_database_is_accepted(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    try:
        await ensure_migrated(engine)
    finally:
        await engine.dispose()


def test_the_generic_schema_comes_first_and_the_demo_after_it() -> None:
    chain = [script.revision for script in reversed(list(_scripts().walk_revisions()))]

    assert chain[:2] == ["identity", "purge_outbox"]
    assert chain[2:] == ["demo_shop"]  # template:demo
    # template:no-demo: assert chain[2:] == []


@pytest.mark.parametrize(
    ("held", "plan"),
    [
        (("a",), CatchUp((), "a")),
        (("c",), CatchUp(("a", "b"), "c")),
        (("c", "a"), CatchUp(("b",), "c")),
        (("c", "a", "b"), CatchUp((), "c")),
        (("a", "b"), CatchUp((), "b")),
    ],
)
def test_an_old_revision_catches_up_with_what_the_chain_has_before_its_newest(
    held: tuple[str, ...], plan: CatchUp
) -> None:
    assert catch_up(held, ["a", "b", "c", "d"]) == plan


def _migrate_in_the_old_order(old: str) -> Callable[[Connection], None]:
    """A database as the chain before the renumbering left it at ``old``: the same DDL, applied
    in the old order, under the old revision id."""

    def migrate(connection: Connection) -> None:
        with connection.begin():
            context = MigrationContext.configure(connection)
            with Operations.context(context):
                for revision in OLD_REVISIONS[old]:
                    script = _scripts().get_revision(revision)
                    assert script is not None
                    script.module.upgrade()
            connection.execute(
                sa.text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            connection.execute(sa.text("INSERT INTO alembic_version VALUES (:old)"), {"old": old})

    return migrate


@pytest.mark.parametrize("old", sorted(OLD_REVISIONS))
async def test_a_database_at_an_old_revision_id_upgrades_onto_the_current_chain(
    database_url: str, old: str
) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate_in_the_old_order(old))
            tables_before = await connection.run_sync(_table_names)
        with pytest.raises(DatabaseNotMigrated) as refused:
            await ensure_migrated(engine)
        assert "run `outpost db upgrade`" in str(refused.value)

        await upgrade(database_url)

        await ensure_migrated(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(_table_names)
            differences = await connection.run_sync(_schema_differences(load_tables()))
            versions = (await connection.execute(sa.text("SELECT * FROM alembic_version"))).all()
    finally:
        await engine.dispose()

    assert tables_before <= tables
    assert tables == APP_TABLES | {"alembic_version"}
    assert differences == []
    assert versions == [(head_revision(),)]


async def test_an_old_revision_keeps_its_rows_through_the_renumbering(
    database_url: str,
) -> None:
    old = max(OLD_REVISIONS)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate_in_the_old_order(old))
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO user_accounts (subject, email, password_hash, roles, created_at) "
                    "VALUES ('s-1', 'a@example.test', 'x', '', CURRENT_TIMESTAMP)"
                )
            )

        await upgrade(database_url)

        async with engine.connect() as connection:
            emails = (await connection.execute(sa.text("SELECT email FROM user_accounts"))).all()
    finally:
        await engine.dispose()

    assert emails == [("a@example.test",)]
