"""The local stack ``outpost bench`` measures: origin, edge and the WAN proxies between them.

Topology (every RTT emulated by a ``python -m loadtest.wanproxy`` child process)::

    Locust --(user-origin RTT)--------------------------------> origin      (direct)
    Locust --(user-edge RTT)--> edge --(edge-origin RTT)------> origin      (through the edge)

The origin gets a fresh SQLite database (with the demo's data), its own signing keys and an edge
secret shared with the edge only; nothing of the developer's own data or settings is touched.

Each proxy runs in its own process, never on the bench's event loop: proxies sharing one loop (and
one GIL) delay each other's timers as load grows, and the edge path crosses two proxies where the
direct path crosses one, so in-process proxies charged the edge ~4 ms at 25 req/s that it never
spent (measured with the edge's own ``Server-Timing``).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from loadtest.bench.plan import BenchConfig
from loadtest.bench.processes import ChildProcess, free_port, output_of

HOST = "127.0.0.1"
EDGE_KEY_ID = "bench"
BENCH_USERS = 4  # distinct subjects the scenarios' tokens belong to
ADMIN_SUBJECT = "bench-admin"
# The bench measures latency, not the origin's per-client budget (600/min by default).
UNLIMITED_RATE = "100000000"
# The origin checks the geofence again, on the country an edge vouched for; a direct request has
# none (unknown, "XX"), and the demo policy lets unknown locations browse but not order. The
# direct path is the baseline of "the same request without an edge", so the bench's origin lets
# every location through; the edge still enforces the real policy (the 451 scenario).
DIRECT_BASELINE_POLICY = {
    "policy": "bench-direct-baseline",
    "rules": [],
    "default": {"name": "bench-allows-every-location", "effect": "allow"},
}


@dataclass(frozen=True, slots=True)
class StackUrls:
    direct: str  # the origin through the user-to-origin proxy
    edge: str  # the edge through the user-to-edge proxy
    origin: str  # the origin itself, for preparation only


def outpost_command(*arguments: str) -> list[str]:
    """``outpost ...`` as this interpreter runs it (no reliance on the console script's PATH)."""
    return [sys.executable, "-m", "commands", *arguments]


def origin_environment(work_dir: Path, port: int, edge_secret: str) -> dict[str, str]:
    """The origin's settings for the bench: all given, so no ``.env`` value leaks in."""
    env = dict(os.environ)
    env.update(
        {
            "OUTPOST_ENV": "development",
            "DATABASE_URL": f"sqlite:///{work_dir / 'outpost.db'}",
            "REDIS_URL": "",  # blank overrides a .env: the in-process store serves one process
            "OUTPOST_DATA_DIR": str(work_dir),
            "OUTPOST_SIGNING_KEYS_FILE": str(work_dir / "keys" / "signing-keys.json"),
            "OUTPOST_SIGNING_KEYS": "",
            "OUTPOST_HOST": HOST,
            "OUTPOST_PORT": str(port),
            "OUTPOST_WORKERS": "1",
            "OUTPOST_LOG_LEVEL": "WARNING",
            "OUTPOST_JWT_ISSUER": f"http://{HOST}:{port}",
            "OUTPOST_EDGE_SECRETS": f"{EDGE_KEY_ID}:{edge_secret}",
            "OUTPOST_RATE_LIMIT_PER_MINUTE": UNLIMITED_RATE,
            "OUTPOST_GEOFENCE_POLICY": json.dumps(DIRECT_BASELINE_POLICY),
            "OUTPOST_LOGIN_ATTEMPTS_PER_ADDRESS": UNLIMITED_RATE,
            "OUTPOST_EXTERNAL_ISSUER": "",
            "OUTPOST_EXTERNAL_AUDIENCE": "",
            "OUTPOST_EXTERNAL_JWKS_URL": "",
        }
    )
    return env


def edge_environment(origin_env: dict[str, str], edge_secret: str) -> dict[str, str]:
    """The edge's settings: it trusts the origin's issuer and shares the assertion secret."""
    env = dict(os.environ)
    env.update(
        {
            "EDGE_MODE": "local",  # CF-IPCountry decides the country (the 451 scenario)
            "JWT_ISSUER": origin_env["OUTPOST_JWT_ISSUER"],
            "JWT_AUDIENCE": "outpost",
            "JWKS_URL": "",  # default: the origin's, through the edge-to-origin proxy
            "EDGE_ASSERTION_SECRET": edge_secret,
            "EDGE_ASSERTION_KEY_ID": EDGE_KEY_ID,
            "GEOFENCE_POLICY": "",
            "EDGE_ROUTES": "",
            "EDGE_FIXED_TIME": "",
        }
    )
    return env


class LocalStack:
    """Start everything in order; stop everything started, in reverse, whatever happens."""

    def __init__(
        self,
        config: BenchConfig,
        work_dir: Path,
        log_dir: Path,
        announce: Callable[[str], None],
    ) -> None:
        self.config = config
        self.work_dir = work_dir
        self.log_dir = log_dir
        self.announce = announce
        self.tokens: tuple[str, ...] = ()
        self.admin_token = ""
        self.processes: list[ChildProcess] = []  # what it started, for a soak's resource samples
        self._exit = AsyncExitStack()

    async def __aenter__(self) -> Self:
        try:
            self.urls = await self._start()
        except BaseException:
            await self._exit.aclose()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._exit.aclose()

    async def _start(self) -> StackUrls:
        origin_port, edge_port = free_port(), free_port()
        secret = secrets.token_urlsafe(32)
        env = origin_environment(self.work_dir, origin_port, secret)
        await self._prepare_database_and_keys(env)
        origin = await self._started(
            ChildProcess("origin", outpost_command("origin"), env, self.log_dir / "origin.log")
        )
        origin_url = f"http://{HOST}:{origin_port}"
        await origin.wait_until_answering(f"{origin_url}/healthz")
        self.announce(f"origin ready at {origin_url}")

        to_origin = await self._proxy(origin_port, self.config.user_origin_rtt_ms)
        edge_to_origin = await self._proxy(origin_port, self.config.edge_origin_rtt_ms)
        edge = await self._started(
            ChildProcess(
                "edge",
                edge_command(
                    self.config.edge_runtime, edge_port, f"http://{HOST}:{edge_to_origin}"
                ),
                edge_environment(env, secret),
                self.log_dir / "edge.log",
            )
        )
        # workerd loads Pyodide and imports the worker without a memory snapshot: seconds.
        ready_within = 60 if self.config.edge_runtime == "cpython" else 180
        await edge.wait_until_answering(
            f"http://{HOST}:{edge_port}/healthz", within_seconds=ready_within
        )
        to_edge = await self._proxy(edge_port, self.config.user_edge_rtt_ms)
        self.announce(
            f"edge ({self.config.edge_runtime}) ready at http://{HOST}:{edge_port}; proxies: "
            f"user-edge "
            f"{self.config.user_edge_rtt_ms:g} ms, edge-origin {self.config.edge_origin_rtt_ms:g}"
            f" ms, user-origin {self.config.user_origin_rtt_ms:g} ms"
        )
        return StackUrls(
            direct=f"http://{HOST}:{to_origin}",
            edge=f"http://{HOST}:{to_edge}",
            origin=origin_url,
        )

    async def _prepare_database_and_keys(self, env: dict[str, str]) -> None:
        """Migrate (and seed) a fresh database; create keys; mint the scenarios' tokens."""
        users = [f"bench-user-{number}" for number in range(1, BENCH_USERS + 1)]
        tokens = await provisioned_tokens(env, [*users, f"{ADMIN_SUBJECT}:admin"])
        self.tokens = tuple(tokens[user] for user in users)
        self.admin_token = tokens[ADMIN_SUBJECT]
        self.announce(
            f"database ready, keys and {len(self.tokens)} user tokens created in {self.work_dir}"
        )

    async def _started(self, process: ChildProcess) -> ChildProcess:
        self._exit.push_async_callback(process.stop)
        await process.start()
        self.processes.append(process)
        return process

    async def _proxy(self, target_port: int, rtt_ms: float) -> int:
        """Start a WAN proxy to ``target_port`` in its own process; the port it listens on."""
        port = free_port()
        proxy = await self._started(
            ChildProcess(
                f"wanproxy ({rtt_ms:g} ms to port {target_port})",
                wanproxy_command(port, target_port, rtt_ms),
                dict(os.environ),
                self.log_dir / f"wanproxy-{port}.log",
            )
        )
        await proxy.wait_until_listening(HOST, port)
        return port


def edge_command(runtime: str, port: int, origin_url: str) -> list[str]:
    return outpost_command(
        "edge", "--runtime", runtime, "--host", HOST, "--port", str(port), "--origin", origin_url
    )


async def provisioned_tokens(env: dict[str, str], subjects: list[str]) -> dict[str, str]:
    """Migrate (and seed) the database ``env`` names, create keys, and mint a token per subject
    (``name:role`` for a role): ``{name: token}``. See :mod:`loadtest.bench.provision`."""
    printed = await output_of(
        "provisioning (outpost db upgrade/seed, keys generate, token)",
        [sys.executable, "-m", "loadtest.bench.provision", *subjects],
        env,
    )
    tokens: dict[str, str] = json.loads(printed.splitlines()[-1])["tokens"]
    return tokens


def wanproxy_command(listen_port: int, target_port: int, rtt_ms: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "loadtest.wanproxy",
        "--listen",
        f"{HOST}:{listen_port}",
        "--target",
        f"{HOST}:{target_port}",
        "--rtt-ms",
        f"{rtt_ms:g}",
    ]
