"""``outpost origin`` (the origin on Hypercorn) and ``outpost dev`` (everything, locally)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from dataclasses import replace
from typing import Any

from origin.settings import Settings

ASGI_APP_PATH = "origin.asgi:app"


def register(verbs: Any) -> None:
    origin = verbs.add_parser(
        "origin",
        help="serve the origin with Hypercorn",
        description="Serve the origin API with Hypercorn. Settings come from the environment "
        "(OUTPOST_HOST, OUTPOST_PORT, OUTPOST_WORKERS, DATABASE_URL, REDIS_URL, ...); "
        "flags override them.",
    )
    _add_bind_flags(origin)
    origin.add_argument("--workers", type=int, help="worker processes (OUTPOST_WORKERS)")
    origin.set_defaults(handler=run_origin)

    dev = verbs.add_parser(
        "dev",
        # template:demo-begin
        help="run the app locally: migrate, seed, serve the origin with the edge in front",
        description="Run the app on this machine: migrate and seed the database, create a "
        # template:demo-end
        # template:no-demo: help="run the app locally: migrate, serve origin and edge in front",
        # template:no-demo: description="Run the app on this machine: migrate the database, "
        # template:no-demo: "create a "
        "development signing key if there is none, start the origin and the edge (CPython, "
        "local mode) in front of it, print their URLs. Ctrl-C stops everything.",
    )
    _add_bind_flags(dev)
    dev.add_argument("--edge-port", type=int, default=8787, help="port of the edge (default 8787)")
    dev.set_defaults(handler=run_dev)


def _add_bind_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to bind (OUTPOST_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (OUTPOST_PORT, default 8000)")


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment settings, overridden by the flags the user gave."""
    overrides = {
        name: value
        for name in ("host", "port", "workers")
        if (value := getattr(args, name, None)) is not None
    }
    settings = Settings.from_env()
    return replace(settings, **overrides) if overrides else settings


def hypercorn_config(settings: Settings) -> Any:
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{_bracket_ipv6(settings.host)}:{settings.port}"]
    config.graceful_timeout = settings.graceful_timeout_seconds
    config.loglevel = settings.log_level
    config.accesslog = None  # the origin writes its own structured access log
    # Hypercorn logs through this logger as it is, so its lines come out as our JSON too.
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = 75  # longer than typical load balancer idle timeouts
    return config


def run_origin(args: argparse.Namespace) -> int:
    from hypercorn.run import run

    from origin.cli.workers import serve_workers

    settings = settings_from(args)
    if not asyncio.run(_database_ready(settings)):
        return 1
    _export(settings)
    print(f"origin: serving on http://{_bracket_ipv6(settings.host)}:{settings.port}", flush=True)
    config = hypercorn_config(settings)
    config.application_path = ASGI_APP_PATH
    if settings.workers == 1:
        config.workers = 0  # Hypercorn serves in this process
        return run(config)
    config.workers = settings.workers
    return serve_workers(config, settings.workers)


def run_dev(args: argparse.Namespace) -> int:
    from origin.cli.database import seed_database  # template:demo
    from origin.db.migrate import upgrade
    from origin.identity.keyring_file import ensure_dev_keyring

    settings = settings_from(args)
    asyncio.run(upgrade(settings.database_url))
    inserted = asyncio.run(seed_database(settings.database_url))  # template:demo
    print(f"dev: database migrated, {inserted} demo products added")  # template:demo
    # template:no-demo: print("dev: database migrated")
    created = ensure_dev_keyring(settings)
    if created is not None:
        print(f"dev: created a development signing key in {created}")
    asyncio.run(_serve_dev(settings, edge_port=args.edge_port))
    return 0


async def _serve_dev(settings: Settings, *, edge_port: int) -> None:
    """The origin (Hypercorn) and the CPython edge in front of it, in this one process."""
    from hypercorn.asyncio import serve

    from edge.config import EdgeConfig
    from edge.runtime.server import serve_edge
    from origin.app import create_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    host = _bracket_ipv6(settings.host)
    origin_url = f"http://{host}:{settings.port}"
    edge_url = f"http://{host}:{edge_port}"
    edge_env = dev_edge_environment(settings, origin_url)
    config = hypercorn_config(settings)
    origin = asyncio.ensure_future(
        serve(create_app(settings), config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
    )
    # The edge opens only once the origin listens: a request in between would get a 502.
    await _until_listening(settings.host, settings.port, origin)
    edge = asyncio.ensure_future(
        serve_edge(
            EdgeConfig.from_env(edge_env),
            bind=f"{host}:{edge_port}",
            env=edge_env,
            shutdown_trigger=stop.wait,
        )
    )
    await _until_listening(settings.host, edge_port, edge)
    if stop.is_set():  # Ctrl-C while starting: say nothing about URLs that are going away
        await asyncio.gather(origin, edge)
        return
    print(
        f"dev: edge    {edge_url}   (local mode: CF-IPCountry sets your country)\n"
        f"dev: origin  {origin_url}\n"
        # template:demo-begin
        f"dev: try     curl {edge_url}/api/products/1  (twice: X-Cache MISS, then HIT)\n"
        # template:demo-end
        # template:no-demo: f"dev: try     curl {edge_url}/api/hello\n"
        f'dev: token   curl -H "Authorization: Bearer $(.venv/bin/outpost token --sub alice)" '
        f"{edge_url}/auth/me\n"
        f"dev: API     {origin_url}/openapi.json\n"
        "dev: Ctrl-C stops",
        flush=True,
    )
    await asyncio.gather(origin, edge)


async def _until_listening(host: str, port: int, server: asyncio.Future[None]) -> None:
    """Return once ``host:port`` accepts connections, or once ``server`` ends (raising what it
    raised: a port in use, a failed start-up)."""
    while not server.done():
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.wait({server}, timeout=0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    server.result()


def dev_edge_environment(settings: Settings, origin_url: str) -> dict[str, str]:
    """The edge's settings for ``outpost dev``: what the origin issues and the secret it checks."""
    key_id, secret = settings.edge_secrets[0]
    return {
        **os.environ,
        "ORIGIN_URL": origin_url,
        "EDGE_MODE": "local",
        "JWT_ISSUER": settings.jwt_issuer,
        "JWT_AUDIENCE": settings.jwt_audience,
        "EDGE_ASSERTION_KEY_ID": key_id,
        "EDGE_ASSERTION_SECRET": secret,
    }


async def _database_ready(settings: Settings) -> bool:
    """Refuse to serve an unmigrated database, saying what to run."""
    from origin.db.engine import create_engine
    from origin.db.migrate import DatabaseNotMigrated, ensure_migrated

    engine = create_engine(settings.database_url)
    try:
        await ensure_migrated(engine)
    except DatabaseNotMigrated as error:
        print(f"origin: {error}", file=sys.stderr)
        return False
    finally:
        await engine.dispose()
    return True


def _export(settings: Settings) -> None:
    """Make flag overrides visible to worker processes, which read settings from the environment."""
    os.environ["OUTPOST_HOST"] = settings.host
    os.environ["OUTPOST_PORT"] = str(settings.port)
    os.environ["OUTPOST_WORKERS"] = str(settings.workers)


def _bracket_ipv6(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
