"""``outpost db upgrade`` and ``outpost db seed``."""  # template:demo
# template:no-demo: """``outpost db upgrade``."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from origin.cli.preflight import require_database
from origin.settings import Settings


def register(verbs: Any) -> None:
    db = verbs.add_parser("db", help="manage the database", description="Manage the database.")
    actions = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade",
        help="apply migrations up to the latest (or --revision)",
        description="Apply the database migrations (DATABASE_URL; default: a local SQLite file).",
    )
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(handler=run_upgrade)
    # template:demo-begin
    seed = actions.add_parser(
        "seed",
        help="load the demo data (idempotent)",
        description="Load the demo catalog; running it again changes nothing.",
    )
    seed.set_defaults(handler=run_seed)
    # template:demo-end


def run_upgrade(args: argparse.Namespace) -> int:
    from origin.db.engine import create_engine
    from origin.db.migrate import current_revision, upgrade

    settings = Settings.from_env()
    require_database(settings.database_url)
    asyncio.run(upgrade(settings.database_url, args.revision))

    async def revision() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    print(f"database at {redact(settings.database_url)} is at revision {asyncio.run(revision())}")
    return 0


# template:demo-begin
def run_seed(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    require_database(settings.database_url)
    inserted = asyncio.run(seed_database(settings.database_url))
    print(f"seeded {inserted} new demo products into {redact(settings.database_url)}")
    return 0


async def seed_database(database_url: str) -> int:
    from origin.db.engine import create_engine, session_factory
    from origin.db.migrate import ensure_migrated
    from origin.demo.seed import seed

    engine = create_engine(database_url)
    try:
        await ensure_migrated(engine)
        return await seed(session_factory(engine))
    finally:
        await engine.dispose()


# template:demo-end
def redact(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
