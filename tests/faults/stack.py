# template:demo-only
"""The system under fault: a real ``outpost origin`` process behind a real CPython edge process.

Both are child processes (the bench's :class:`~loadtest.bench.processes.ChildProcess`), so a
test can SIGKILL the origin or restart the edge exactly as an orchestrator would. The origin is
configured like the bench's (fresh keys, an edge secret, demo data), on the database and Redis
the test chooses; the edge runs in local mode so ``CF-IPCountry`` places a request.
"""

from __future__ import annotations

import secrets
import signal
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from loadtest.bench import preparation
from loadtest.bench.processes import ChildProcess, free_port
from loadtest.bench.stack import (
    ADMIN_SUBJECT,
    HOST,
    edge_command,
    edge_environment,
    origin_environment,
    outpost_command,
    provisioned_tokens,
)
from tests.faults.ledger import COUNTRY

EDGE_ORIGIN_TIMEOUT_SECONDS = 5.0  # how long the edge waits for the origin before its 504
START_WITHIN_SECONDS = 60.0  # generous: the machine is shared


@dataclass(frozen=True, slots=True)
class StackOptions:
    database_url: str
    redis_url: str = ""  # blank: the origin's in-process store
    users: int = 4
    rate_limit_per_minute: int = 100_000_000


class FaultStack:
    """Start origin and edge; restart or kill either; stop everything on exit."""

    def __init__(self, options: StackOptions, work_dir: Path) -> None:
        self.options = options
        self.work_dir = work_dir
        self.log_dir = work_dir / "logs"
        self.origin_port = free_port()
        self.edge_port = free_port()
        self.secret = secrets.token_urlsafe(32)
        self.tokens: tuple[str, ...] = ()
        self.subjects: tuple[str, ...] = ()
        self.admin_token = ""
        self._origin: ChildProcess | None = None
        self._edge: ChildProcess | None = None
        self._generation = 0
        self._exit = AsyncExitStack()

    @property
    def origin_url(self) -> str:
        return f"http://{HOST}:{self.origin_port}"

    @property
    def edge_url(self) -> str:
        return f"http://{HOST}:{self.edge_port}"

    def origin_env(self) -> dict[str, str]:
        env = origin_environment(self.work_dir, self.origin_port, self.secret)
        env.update(
            {
                "DATABASE_URL": self.options.database_url,
                "REDIS_URL": self.options.redis_url,
                "OUTPOST_RATE_LIMIT_PER_MINUTE": str(self.options.rate_limit_per_minute),
                "OUTPOST_SIGNING_KEYS_FILE": str(self.work_dir / "keys" / "signing-keys.json"),
            }
        )
        return env

    async def __aenter__(self) -> Self:
        try:
            await self._provision()
            await self.start_origin()
            await self.start_edge()
            await preparation.restock(self.edge_url, self.admin_token, COUNTRY)
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

    async def _provision(self) -> None:
        self.subjects = tuple(f"fault-user-{n}" for n in range(1, self.options.users + 1))
        tokens = await provisioned_tokens(
            self.origin_env(), [*self.subjects, f"{ADMIN_SUBJECT}:admin"]
        )
        self.tokens = tuple(tokens[subject] for subject in self.subjects)
        self.admin_token = tokens[ADMIN_SUBJECT]

    async def start_origin(self) -> None:
        """Start the origin on its port (again, after a kill) and wait until it answers."""
        self._generation += 1
        origin = ChildProcess(
            "origin",
            outpost_command("origin"),
            self.origin_env(),
            self.log_dir / f"origin-{self._generation}.log",
        )
        self._exit.push_async_callback(origin.stop)
        await origin.start()
        await origin.wait_until_answering(f"{self.origin_url}/healthz", START_WITHIN_SECONDS)
        self._origin = origin

    async def kill_origin(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a lost machine does: no clean-up at all."""
        assert self._origin is not None
        self._origin.signal(signal.SIGKILL)
        await self._origin.wait()

    async def start_edge(self) -> None:
        self._generation += 1
        env = edge_environment(self.origin_env(), self.secret)
        env["ORIGIN_TIMEOUT_SECONDS"] = str(EDGE_ORIGIN_TIMEOUT_SECONDS)
        edge = ChildProcess(
            "edge",
            edge_command("cpython", self.edge_port, self.origin_url),
            env,
            self.log_dir / f"edge-{self._generation}.log",
        )
        self._exit.push_async_callback(edge.stop)
        await edge.start()
        await edge.wait_until_answering(f"{self.edge_url}/healthz", START_WITHIN_SECONDS)
        self._edge = edge

    async def stop_edge(self, signum: int) -> int:
        """Stop the edge with ``signum`` (SIGTERM: a deploy; SIGKILL: a crash); its exit code."""
        assert self._edge is not None
        self._edge.signal(signum)
        return await self._edge.wait()
