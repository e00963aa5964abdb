"""``outpost origin``: the origin on Hypercorn (``commands.dev`` runs it with the edge)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from origin.cli.preflight import redis_warning, require_database, require_keyring
from origin.settings import Settings
from shared.cli.arguments import port_number, positive_int
from shared.cli.failures import Listener
from shared.cli.listening import bind, hand_over, url_of

ASGI_APP_PATH = "origin.asgi:app"


def register(verbs: Any) -> None:
    origin = verbs.add_parser(
        "origin",
        help="serve the origin with Hypercorn",
        description="Serve the origin API with Hypercorn. Settings come from the environment "
        "(OUTPOST_HOST, OUTPOST_PORT, OUTPOST_WORKERS, DATABASE_URL, REDIS_URL, ...); "
        "flags override them.",
    )
    add_bind_flags(origin)
    origin.add_argument("--workers", type=positive_int, help="worker processes (OUTPOST_WORKERS)")
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
        for name in ("host", "port", "workers")
        if (value := getattr(args, name, None)) is not None
    }
    settings = Settings.from_env()
    return settings.model_copy(update=overrides) if overrides else settings


def hypercorn_config(settings: Settings, bind: str) -> Any:
    """Hypercorn's settings; ``bind`` is the ``fd://N`` of the socket the command bound."""
    from hypercorn.config import Config

    config = Config()
    config.bind = [bind]
    config.graceful_timeout = settings.graceful_timeout_seconds
    config.loglevel = settings.log_level
    config.accesslog = None  # the origin writes its own structured access log
    # Hypercorn logs through this logger as it is, so its lines come out as our JSON too.
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = 75  # longer than typical load balancer idle timeouts
    return config


def origin_listener(settings: Settings) -> Listener:
    return Listener(
        "origin",
        settings.host,
        settings.port,
        host_option="--host or OUTPOST_HOST",
        port_option="--port or OUTPOST_PORT",
    )


def run_origin(args: argparse.Namespace) -> int:
    from hypercorn.run import run

    from origin.cli.workers import serve_workers

    settings = settings_from(args)
    with bind(origin_listener(settings)) as sock:
        # What the origin's start-up (Hypercorn's lifespan) would otherwise fail on, with a
        # traceback per worker.
        require_database(settings.database_url, migrated=True)
        require_keyring(settings)
        warn_if_redis_is_down(settings)
        _export(settings)
        print(f"origin: serving on {url_of(sock)}", flush=True)
        config = hypercorn_config(settings, hand_over(sock))
    config.application_path = ASGI_APP_PATH
    if settings.workers == 1:
        config.workers = 0  # Hypercorn serves in this process
        return run(config)
    config.workers = settings.workers
    return serve_workers(config, settings.workers)


def warn_if_redis_is_down(settings: Settings) -> None:
    warning = redis_warning(settings)
    if warning is not None:
        print(f"outpost: {warning}", file=sys.stderr, flush=True)


def _export(settings: Settings) -> None:
    """Make flag overrides visible to worker processes, which read settings from the environment."""
    os.environ["OUTPOST_HOST"] = settings.host
    os.environ["OUTPOST_PORT"] = str(settings.port)
    os.environ["OUTPOST_WORKERS"] = str(settings.workers)
