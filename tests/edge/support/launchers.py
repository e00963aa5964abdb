"""Starting an edge for the behaviour suite: the suite only needs its base URL.

A launcher takes the edge's environment (the same variables wrangler.toml's ``[vars]`` and
secrets provide) and serves an edge configured by it. The CPython launcher runs the CPython edge
in a thread; the Pyodide suite adds its own launcher (see tests/edge/behaviour/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
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


@contextlib.contextmanager
def edge_process(env: Mapping[str, str]) -> Iterator[tuple[str, int]]:
    """The CPython edge in a process of its own (``outpost edge``), configured by ``env``, for
    tests that watch it from outside (its memory): yields its base URL and process id."""
    sock, port = bound_socket()
    sock.close()
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("EDGE_", "JWT", "ORIGIN"))
    }
    command = [sys.executable, "-m", "origin.cli", "edge", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command, env={**inherited, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the edge process did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
