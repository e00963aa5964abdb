"""Starting an edge for the behaviour suite: the suite only needs its base URL.

A launcher takes the edge's environment (the same variables wrangler.toml's ``[vars]`` and
secrets provide) and serves an edge configured by it. The CPython launcher runs the CPython edge
in a thread; the workerd launcher runs the Cloudflare worker under workerd with ``wrangler dev``,
exactly as ``outpost edge --runtime workerd`` does (see tests/edge/behaviour/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

import httpx

from shared.geofence import CONTINENT_OF, EU_MEMBERS
from tests.conftest import service_missing
from tests.edge.support.threads import ServerThread, bound_socket

# workerd starts Pyodide and imports the worker without a memory snapshot locally: seconds, and
# many more on a loaded machine.
WORKERD_READY_TIMEOUT_SECONDS = 180.0


class EdgeLauncher(Protocol):
    name: str

    def start(self, env: Mapping[str, str]) -> contextlib.AbstractContextManager[str]:
        """Serve an edge configured by ``env``; the context yields its base URL."""
        ...

    def geolocated(self, country: str | None) -> dict[str, str] | None:
        """Headers that make the runtime's own geolocation (Cloudflare's ``request.cf``, which
        production mode trusts) place a request in ``country`` (``None``: a place it cannot
        locate); ``None`` when the runtime has no geolocation of its own, so production mode
        knows no country at all."""
        ...


class CPythonLauncher:
    name = "cpython"

    def geolocated(self, country: str | None) -> dict[str, str] | None:
        return None  # the CPython edge is not behind Cloudflare: production mode has no country

    @contextlib.contextmanager
    def start(self, env: Mapping[str, str]) -> Iterator[str]:
        from edge.config import EdgeConfig
        from edge.runtime.cpython.server import serve_edge

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


class WorkerdLauncher:
    """The worker as wrangler uploads it, under workerd: ``wrangler dev`` with the project's
    wrangler.toml (edge/runtime/cpython/workerd_host.py). Offline,
    ``OUTPOST_PYODIDE_BUNDLE_DIR`` must name the dev bundle's folder; without what workerd needs,
    the suite skips (fails in CI)."""

    name = "workerd"

    def __init__(self) -> None:
        self.logs: list[Path] = []

    def geolocated(self, country: str | None) -> dict[str, str]:
        """Miniflare's own per-request ``request.cf``: its entry worker builds the request the
        worker sees with ``cf`` parsed from ``MF-CF-Blob`` (what ``dispatchFetch(url, {cf})``
        sends). The header itself is not removed: the worker receives it as a plain header it
        never reads. Without ``clientAcceptEncoding`` (a real ``request.cf`` field), wrangler's
        proxy asks the worker for a compressed answer whatever the client accepts."""
        cf: dict[str, str] = {"country": country or "XX"}
        if country in CONTINENT_OF:
            cf["continent"] = CONTINENT_OF[country]
        if country in EU_MEMBERS:
            cf["isEUCountry"] = "1"
        return {"MF-CF-Blob": json.dumps(cf)}

    @contextlib.contextmanager
    def start(self, env: Mapping[str, str]) -> Iterator[str]:
        from edge.runtime.cpython.workerd_host import (
            WorkerdUnavailable,
            find_setup,
            running_wrangler_dev,
        )

        try:
            setup = find_setup(os.environ)
        except WorkerdUnavailable as error:
            service_missing("workerd", "wrangler dev", error)
            raise  # service_missing skips or fails the test: not reached
        sock, port = bound_socket()
        sock.close()  # wrangler binds it itself
        url = f"http://127.0.0.1:{port}"
        with tempfile.NamedTemporaryFile(prefix="outpost-wrangler-", suffix=".log") as log:
            self.logs.append(Path(log.name))
            running = running_wrangler_dev(
                setup, env, host="127.0.0.1", port=port, environ=os.environ, output=log.fileno()
            )
            with running as process:
                wait_until_answering(url, process, Path(log.name))
                yield url


def wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """wrangler's proxy holds requests until the worker is loaded: the first answer means ready."""
    deadline = time.monotonic() + WORKERD_READY_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"wrangler dev exited ({process.returncode}): {log.read_text()}")
        try:
            httpx.get(f"{url}/__outpost-ready", timeout=WORKERD_READY_TIMEOUT_SECONDS)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"wrangler dev did not answer: {log.read_text()}") from None
            time.sleep(0.2)


@contextlib.contextmanager
def edge_process(env: Mapping[str, str]) -> Iterator[tuple[str, int]]:
    """The CPython edge in a process of its own (``outpost edge``), configured by ``env``, for
    tests that watch it from outside (its memory): yields its base URL and process id."""
    sock, port = bound_socket()
    sock.close()
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("EDGE_", "JWT", "ORIGIN"))
    }
    command = [sys.executable, "-m", "commands", "edge", "--port", str(port)]
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
