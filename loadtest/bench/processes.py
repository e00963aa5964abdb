"""The processes a bench starts: logged to files, awaited until they answer, always stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

STOP_GRACE_SECONDS = 5.0
LOG_TAIL_LINES = 15


class ProcessFailed(RuntimeError):
    """A process exited with an error, or never answered; the message ends with its log's tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the child binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.is_file():
        return "(no log)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(empty log)"


async def output_of(name: str, argv: Sequence[str], env: Mapping[str, str]) -> str:
    """Run a short command and return what it printed; :class:`ProcessFailed` if it failed."""
    child = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate()
    if child.returncode != 0:
        raise ProcessFailed(f"{name} exited with code {child.returncode}: {err.decode().strip()}")
    return out.decode().strip()


class ChildProcess:
    """One child, its output in ``log_path``; in its own session, so a Ctrl-C reaches the bench
    alone and the bench stops its children in order."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.returncode

    async def wait(self) -> int:
        assert self._process is not None, "start() first"
        code = await self._process.wait()
        self._close_log()
        return code

    async def run(self) -> None:
        """Start, wait for the end, raise :class:`ProcessFailed` unless it succeeded."""
        await self.start()
        code = await self.wait()
        if code != 0:
            raise self.failure(f"exited with code {code}")

    async def wait_until_answering(self, url: str, within_seconds: float = 30.0) -> None:
        """Poll ``url`` until it answers below 500; fail early if the process exits."""
        deadline = asyncio.get_running_loop().time() + within_seconds
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if self.returncode is not None:
                    raise self.failure(f"exited with code {self.returncode} while starting")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code < 500:
                        return
                if asyncio.get_running_loop().time() > deadline:
                    raise self.failure(f"did not answer {url} within {within_seconds:g} s")
                await asyncio.sleep(0.1)

    async def wait_until_listening(
        self, host: str, port: int, within_seconds: float = 30.0
    ) -> None:
        """Poll until ``host:port`` accepts a TCP connection; fail early if the process exits."""
        deadline = asyncio.get_running_loop().time() + within_seconds
        while True:
            if self.returncode is not None:
                raise self.failure(f"exited with code {self.returncode} while starting")
            try:
                _, writer = await asyncio.open_connection(host, port)
            except OSError:
                pass
            else:
                writer.close()
                await writer.wait_closed()
                return
            if asyncio.get_running_loop().time() > deadline:
                raise self.failure(f"did not listen on {host}:{port} within {within_seconds:g} s")
            await asyncio.sleep(0.05)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the process and its children (a fault test's SIGKILL, say)."""
        assert self._process is not None, "start() first"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signum)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; safe to call twice or before start."""
        process = self._process
        if process is None or process.returncode is not None:
            self._close_log()
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), STOP_GRACE_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        self._close_log()

    def failure(self, what: str) -> ProcessFailed:
        return ProcessFailed(
            f"{self.name} {what}; last lines of {self.log_path}:\n" + log_tail(self.log_path)
        )

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
