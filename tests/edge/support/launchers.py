"""Starting an edge for the behaviour suite: the suite only needs its base URL.

A launcher takes the edge's environment (the same variables wrangler.toml's ``[vars]`` and
secrets provide) and serves an edge configured by it. The CPython launcher runs the CPython edge
in a thread; the Pyodide suite adds its own launcher (see tests/edge/behaviour/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from typing import Protocol

from tests.edge.support.threads import ServerThread, bound_socket


class EdgeLauncher(Protocol):
    name: str

    def start(self, env: Mapping[str, str]) -> contextlib.AbstractContextManager[str]:
        """Serve an edge configured by ``env``; the context yields its base URL."""
        ...

    def geolocated(self, country: str) -> dict[str, str] | None:
        """Headers that make the runtime's own geolocation (Cloudflare's ``request.cf``, which
        production mode trusts) place a request in ``country``; ``None`` when the runtime has
        no geolocation of its own, so production mode knows no country at all."""
        ...


class CPythonLauncher:
    name = "cpython"

    def geolocated(self, country: str) -> dict[str, str] | None:
        return None  # the CPython edge is not behind Cloudflare: production mode has no country

    @contextlib.contextmanager
    def start(self, env: Mapping[str, str]) -> Iterator[str]:
        from edge.config import EdgeConfig
        from edge.runtime.server import serve_edge

        config = EdgeConfig.from_env(env)
        sock, port = bound_socket()
        bind = f"fd://{sock.detach()}"

        async def run(stop: asyncio.Event) -> None:
            await serve_edge(config, bind=bind, env=dict(env), shutdown_trigger=stop.wait)

        thread = ServerThread(run, f"edge-{port}")
        thread.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            thread.stop()
