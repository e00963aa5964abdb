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
import sys
from typing import Any

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
        "--port", type=int, help=f"port to bind (EDGE_PORT, default {DEFAULT_EDGE_PORT})"
    )
    edge.add_argument("--origin", help=f"origin URL (ORIGIN_URL, default {DEFAULT_ORIGIN_URL})")
    edge.add_argument(
        "--mode",
        choices=("local", "production"),
        help="local trusts CF-IPCountry for the country; production never does "
        "(EDGE_MODE, default local)",
    )
    edge.set_defaults(handler=run_edge)


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
    from edge.config import ConfigError, EdgeConfig

    env = edge_environment(args, dict(os.environ))
    try:
        # Checked here for both runtimes: the worker would only answer 500 to every request.
        config = EdgeConfig.from_env(env)
    except ConfigError as error:
        print(f"outpost edge: configuration error: {error}", file=sys.stderr)
        return 2
    runtime = "workerd" if args.runtime == "pyodide" else args.runtime  # the old name
    workerd_setup = None
    if runtime == "workerd":
        from edge.runtime.workerd_host import WorkerdUnavailable, find_setup

        try:
            workerd_setup = find_setup(os.environ)
        except WorkerdUnavailable as error:
            print(f"outpost edge: {error}", file=sys.stderr)
            return 2
    host = args.host or env.get("EDGE_HOST") or "127.0.0.1"
    port = args.port if args.port is not None else int(env.get("EDGE_PORT") or DEFAULT_EDGE_PORT)
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    print(
        f"edge: serving on http://{bind_host}:{port} ({config.mode.value} mode, {runtime}), "
        f"forwarding to {config.origin_url}",
        flush=True,
    )
    if workerd_setup is not None:
        from edge.runtime.workerd_host import serve_workerd

        # wrangler dev prints `Ready on http://HOST:PORT`; it stops on SIGINT/SIGTERM.
        return serve_workerd(workerd_setup, env, host=host, port=port)
    try:
        asyncio.run(_serve(config, f"{bind_host}:{port}", env))
    except ConfigError as error:  # settings only the runtime reads (EDGE_CACHE_*, ...)
        print(f"outpost edge: configuration error: {error}", file=sys.stderr)
        return 2
    return 0


async def _serve(config: Any, bind: str, env: dict[str, str]) -> None:
    from edge.runtime.server import serve_edge

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve_edge(config, bind=bind, env=env, shutdown_trigger=stop.wait)
