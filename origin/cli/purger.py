"""``outpost purger``: deliver the purges writes recorded to Cloudflare (see docs/edge.md)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from origin.settings import Settings


def register(verbs: Any) -> None:
    purger = verbs.add_parser(
        "purger",
        help="deliver recorded cache purges to Cloudflare",
        description="Deliver the purges that writes recorded in the outbox to Cloudflare's purge "
        "API (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ZONE_ID), within the plan's limits "
        "(OUTPOST_PURGE_PLAN), until SIGTERM or Ctrl-C. Without the token and zone it says so "
        "and exits.",
    )
    purger.add_argument(
        "--status",
        action="store_true",
        help="print how many purges wait, for how long, and the last error, then exit",
    )
    purger.set_defaults(handler=run_purger)


def run_purger(args: argparse.Namespace) -> int:
    from origin.cli.preflight import require_database
    from origin.observability.logging import configure_logging
    from origin.purge import process

    settings = Settings.from_env()
    if settings.purge.enabled or args.status:
        require_database(settings.database_url, migrated=True)
    if args.status:
        print(asyncio.run(process.status(settings)))
        return 0
    notice = process.off_notice(settings)
    if notice is not None:
        print(notice, flush=True)
        return 0
    configure_logging(settings.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await process.run_purger(settings, stop, announce=lambda line: print(line, flush=True))

    asyncio.run(main())
    return 0
