"""``outpost origin``: the origin on the chosen server (``commands.dev`` runs it with the edge)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from origin.cli.preflight import redis_warning, require_database, require_keyring
from origin.servers import DEFAULT_SERVER, SERVER_NAMES, adapter
from origin.settings import Settings
from shared.cli.arguments import port_number, positive_int
from shared.cli.failures import Listener
from shared.cli.listening import bind, url_of


def register(verbs: Any) -> None:
    origin = verbs.add_parser(
        "origin",
        help="serve the origin API",
        description="Serve the origin API. Settings come from the environment "
        "(OUTPOST_HOST, OUTPOST_PORT, OUTPOST_SERVER, OUTPOST_WORKERS, DATABASE_URL, REDIS_URL, "
        "...); flags override them.",
    )
    add_bind_flags(origin)
    origin.add_argument("--workers", type=positive_int, help="worker processes (OUTPOST_WORKERS)")
    origin.add_argument(
        "--server",
        choices=SERVER_NAMES,
        help=f"the HTTP server (OUTPOST_SERVER, default {DEFAULT_SERVER}; docs/deploy.md)",
    )
    origin.set_defaults(handler=run_origin)


def add_bind_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to bind (OUTPOST_HOST, default 127.0.0.1)")
    parser.add_argument(
        "--port", type=port_number, help="port to bind (OUTPOST_PORT, default 8000)"
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment settings, overridden by the flags the user gave."""
    overrides = {
        name: value
        for name in ("host", "port", "workers", "server")
        if (value := getattr(args, name, None)) is not None
    }
    settings = Settings.from_env()
    return settings.model_copy(update=overrides) if overrides else settings


def origin_listener(settings: Settings) -> Listener:
    return Listener(
        "origin",
        settings.host,
        settings.port,
        host_option="--host or OUTPOST_HOST",
        port_option="--port or OUTPOST_PORT",
    )


def run_origin(args: argparse.Namespace) -> int:
    from origin.cli.workers import serve_workers
    from origin.observability.logging import configure_logging

    settings = settings_from(args)
    server = adapter(settings.server)
    with bind(origin_listener(settings)) as sock:
        # What the origin's start-up (the server's lifespan) would otherwise fail on, with a
        # traceback per worker.
        require_database(settings.database_url, migrated=True)
        require_keyring(settings)
        warn_if_redis_is_down(settings)
        _export(settings)
        configure_logging(settings.log_level)  # the server's own lines are JSON from the start
        print(f"origin: serving on {url_of(sock)} ({settings.server})", flush=True)
        if settings.workers == 1:
            return server.serve(settings, sock)
        return serve_workers(server, settings, sock)


def warn_if_redis_is_down(settings: Settings) -> None:
    warning = redis_warning(settings)
    if warning is not None:
        print(f"outpost: {warning}", file=sys.stderr, flush=True)


def _export(settings: Settings) -> None:
    """Make flag overrides visible to worker processes, which read settings from the environment."""
    os.environ["OUTPOST_HOST"] = settings.host
    os.environ["OUTPOST_PORT"] = str(settings.port)
    os.environ["OUTPOST_WORKERS"] = str(settings.workers)
    os.environ["OUTPOST_SERVER"] = settings.server
