"""``outpost edge``: serve the edge in front of an origin, on CPython or as the Cloudflare worker
under workerd, Cloudflare's runtime (``wrangler dev``, serving what wrangler uploads).

Configuration is the edge's environment (``ORIGIN_URL``, ``JWT_ISSUER``, ``JWT_AUDIENCE``,
``JWKS_URL``, ``EDGE_ASSERTION_SECRET``, ``EDGE_MODE``, ...; see ``edge/config.py``); flags
override it. This verb is for local development and load tests, so it runs in local mode unless
told otherwise: ``CF-IPCountry`` then sets the client's country, which production never allows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
from typing import Any

from shared.cli.arguments import port_number
from shared.cli.failures import BAD_SETTING, CommandFailed, Listener, configuration_failure
from shared.cli.listening import bind, hand_over, url_of

DEFAULT_EDGE_PORT = 8787  # wrangler dev's port, so URLs look the same under either runtime
DEFAULT_ORIGIN_URL = "http://127.0.0.1:8000"


def register(verbs: Any) -> None:
    edge = verbs.add_parser(
        "edge",
        help="serve the edge (auth, geofence, cache) in front of the origin",
        description="Serve the edge pipeline in front of an origin. Settings come from the "
        "environment (ORIGIN_URL, JWT_ISSUER, JWT_AUDIENCE, JWKS_URL, EDGE_ASSERTION_SECRET, "
        "EDGE_MODE, ...); flags override them.",
    )
    edge.add_argument(
        "--runtime",
        choices=("cpython", "workerd", "pyodide"),
        default="cpython",
        help="cpython (default) or workerd (the Cloudflare worker under Cloudflare's runtime, "
        "through wrangler dev; offline it needs OUTPOST_PYODIDE_BUNDLE_DIR); pyodide is another "
        "name for workerd",
    )
    edge.add_argument("--host", help="address to bind (EDGE_HOST, default 127.0.0.1)")
    edge.add_argument(
        "--port", type=port_number, help=f"port to bind (EDGE_PORT, default {DEFAULT_EDGE_PORT})"
    )
    edge.add_argument("--origin", help=f"origin URL (ORIGIN_URL, default {DEFAULT_ORIGIN_URL})")
    edge.add_argument(
        "--mode",
        choices=("local", "production"),
        help="local trusts CF-IPCountry for the country; production never does "
        "(EDGE_MODE, default local)",
    )
    edge.set_defaults(handler=run_edge)


def known_failure(error: BaseException) -> CommandFailed | None:
    """The edge's errors a user can cause: a setting it cannot use."""
    from edge.config import ConfigError  # only a failing verb needs it

    if isinstance(error, ConfigError):
        return configuration_failure(error)
    return None


def edge_environment(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, str]:
    """The edge's settings: the environment, with this verb's defaults and the flags on top."""
    env = dict(environ)
    env.setdefault("ORIGIN_URL", DEFAULT_ORIGIN_URL)
    env.setdefault("EDGE_MODE", "local")
    if args.origin:
        env["ORIGIN_URL"] = args.origin
    if args.mode:
        env["EDGE_MODE"] = args.mode
    return env


def run_edge(args: argparse.Namespace) -> int:
    from edge.config import EdgeConfig

    env = edge_environment(args, dict(os.environ))
    # Checked here for both runtimes: the worker would only answer 500 to every request.
    config = EdgeConfig.from_env(env)
    runtime = "workerd" if args.runtime == "pyodide" else args.runtime  # the old name
    listener = Listener(
        "edge",
        args.host or env.get("EDGE_HOST") or "127.0.0.1",
        args.port if args.port is not None else _port_setting(env),
        host_option="--host or EDGE_HOST",
        port_option="--port or EDGE_PORT",
    )
    with bind(listener) as sock:
        url = url_of(sock)
        described = f"({config.mode.value} mode, {runtime}), forwarding to {config.origin_url}"
        if runtime == "workerd":
            from edge.runtime.cpython.workerd_host import (
                WorkerdUnavailable,
                find_setup,
                serve_workerd,
            )

            try:
                workerd_setup = find_setup(os.environ)
            except WorkerdUnavailable as error:
                raise CommandFailed(str(error), BAD_SETTING) from None

            port = sock.getsockname()[1]
            sock.close()  # free for wrangler dev, which binds it itself a moment later
            print(f"edge: starting on {url} {described}", flush=True)
            # wrangler dev prints `Ready on http://HOST:PORT`; it stops on SIGINT/SIGTERM.
            return serve_workerd(workerd_setup, env, host=listener.host, port=port)
        asyncio.run(_serve(config, sock, env, f"edge: serving on {url} {described}"))
    return 0


def _port_setting(env: dict[str, str]) -> int:
    raw = env.get("EDGE_PORT")
    if not raw:
        return DEFAULT_EDGE_PORT
    try:
        return port_number(raw)
    except (ValueError, argparse.ArgumentTypeError):
        raise CommandFailed(
            f"configuration error: EDGE_PORT={raw!r} is not a port: give 0 to 65535",
            BAD_SETTING,
        ) from None


async def _serve(config: Any, sock: socket.socket, env: dict[str, str], banner: str) -> None:
    """Serve on ``sock`` until SIGINT or SIGTERM; ``banner`` once it accepts connections.

    The server says when it listens: a probe from outside could lose the race with a client
    that is served and stops the edge before the probe's next try, and say nothing."""
    from edge.runtime.cpython.server import serve_edge

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve_edge(
        config,
        bind=hand_over(sock),
        env=env,
        shutdown_trigger=stop.wait,
        on_listening=lambda: print(banner, flush=True),
    )
