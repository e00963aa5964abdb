"""``outpost dev``: the whole app on this machine, the origin and the CPython edge in front of
it in one process.

A composition of the origin's and the edge's verbs, so it lives above both (neither package
imports the other); the command offers it when both are installed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
from typing import Any

from origin.cli.preflight import require_database, require_keyring
from origin.cli.serve import add_bind_flags, origin_listener, settings_from, warn_if_redis_is_down
from origin.settings import Settings
from shared.cli.arguments import port_number
from shared.cli.failures import CommandFailed, Listener
from shared.cli.listening import bind, hand_over, until_accepting, url_of


def register(verbs: Any) -> None:
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
    add_bind_flags(dev)
    dev.add_argument(
        "--edge-port", type=port_number, default=8787, help="port of the edge (default 8787)"
    )
    dev.set_defaults(handler=run_dev)


def run_dev(args: argparse.Namespace) -> int:
    from edge.config import EdgeConfig
    from origin.cli.database import seed_database  # template:demo
    from origin.db.migrate import upgrade

    settings = settings_from(args)
    if settings.port == args.edge_port != 0:
        # Both would bind (neither listens yet), and one would fail later, when it listens.
        raise CommandFailed(
            f"the origin and the edge cannot both listen on port {args.edge_port}: choose "
            "another port for the edge with --edge-port"
        )
    edge_listener = Listener(
        "edge",
        settings.host,
        args.edge_port,
        host_option="--host or OUTPOST_HOST",
        port_option="--edge-port",
    )
    with bind(origin_listener(settings)) as origin_socket, bind(edge_listener) as edge_socket:
        edge_env = dev_edge_environment(settings, url_of(origin_socket))
        edge_config = EdgeConfig.from_env(edge_env)
        require_database(settings.database_url)
        asyncio.run(upgrade(settings.database_url))
        inserted = asyncio.run(seed_database(settings.database_url))  # template:demo
        print(f"dev: database migrated, {inserted} demo products added")  # template:demo
        # template:no-demo: print("dev: database migrated")
        created = require_keyring(settings)
        if created is not None:
            print(f"dev: created a development signing key in {created}")
        warn_if_redis_is_down(settings)
        asyncio.run(_serve_dev(settings, origin_socket, edge_socket, edge_config, edge_env))
    return 0


async def _serve_dev(
    settings: Settings,
    origin_socket: socket.socket,
    edge_socket: socket.socket,
    edge_config: Any,
    edge_env: dict[str, str],
) -> None:
    """The origin (on the default server, uvicorn) and the CPython edge in front of it, in this
    one process. The URLs are printed once both accept connections; if either fails to start,
    both stop."""
    from edge.runtime.cpython.server import serve_edge
    from origin.app import create_app
    from origin.servers.uvicorn import serve_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    origin_url, edge_url = url_of(origin_socket), url_of(edge_socket)
    origin_address, edge_address = origin_socket.getsockname()[:2], edge_socket.getsockname()[:2]
    origin = asyncio.ensure_future(
        serve_app(create_app(settings), settings, origin_socket, shutdown=stop.wait)
    )
    # uvicorn takes SIGINT/SIGTERM over while it serves: when it stops, the edge stops too.
    origin.add_done_callback(lambda _: stop.set())
    servers = [origin]
    try:
        # The edge opens only once the origin listens: a request in between would get a 502.
        await until_accepting(origin_address, servers[0])
        servers.append(
            asyncio.ensure_future(
                serve_edge(
                    edge_config,
                    bind=hand_over(edge_socket),
                    env=edge_env,
                    shutdown_trigger=stop.wait,
                )
            )
        )
        await until_accepting(edge_address, servers[1])
    except BaseException:
        stop.set()  # the one that started stops too: nothing is left serving half the app
        await asyncio.gather(*servers, return_exceptions=True)
        raise
    if stop.is_set():  # Ctrl-C while starting: say nothing about URLs that are going away
        await asyncio.gather(*servers)
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
    await asyncio.gather(*servers)


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
        "EDGE_ASSERTION_SECRET": secret.get_secret_value(),
    }


def known_failure(error: BaseException) -> CommandFailed | None:
    """Nothing of its own: the origin's and the edge's failures cover what ``dev`` raises."""
    return None
