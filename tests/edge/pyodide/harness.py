"""Start and stop the Pyodide harness (tools/pyodide-host/serve.mjs) as a subprocess for tests."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_missing

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SERVE_SCRIPT = PROJECT_ROOT / "tools" / "pyodide-host" / "serve.mjs"
WRANGLER_TOML = PROJECT_ROOT / "wrangler.toml"
PYODIDE_PACKAGE = PROJECT_ROOT / "node_modules" / "pyodide" / "package.json"
WHEEL_DIR = PROJECT_ROOT / ".cache" / "pyodide-wheels"
BUILD_SCRIPT = PROJECT_ROOT / "tools" / "build_worker.py"
# A cold Pyodide boot takes seconds; a loaded CI machine can take many more.
READY_TIMEOUT_SECONDS = 120.0


def wrangler_vars() -> dict[str, Any]:
    """The [vars] of wrangler.toml: the bindings every harness run starts from."""
    config = tomllib.loads(WRANGLER_TOML.read_text())
    variables: dict[str, Any] = config.get("vars", {})
    return variables


def node_executable() -> str:
    """The `node` binary, or a skip (developer machine) / failure (CI) naming the setup step."""
    node = shutil.which("node")
    if node is None:
        service_missing("node", "PATH", FileNotFoundError("install Node.js 20 or newer"))
    if not PYODIDE_PACKAGE.is_file():
        service_missing("pyodide", str(PYODIDE_PACKAGE), FileNotFoundError("run `npm ci`"))
    if not any(WHEEL_DIR.glob("*.whl")):
        hint = FileNotFoundError("run `sh tools/pyodide-host/fetch-wheels.sh`")
        service_missing("pyodide-wheels", str(WHEEL_DIR), hint)
    assert node is not None
    build_worker_once()
    return node


_built = threading.Lock()
_build_done: list[bool] = []


def build_worker_once() -> None:
    """Lays the worker out as wrangler uploads it (tools/build_worker.py, wrangler.toml's [build]
    command), once per test session; the harnesses then start with --no-build, so several can
    boot side by side from the same tree."""
    with _built:
        if _build_done:
            return
        completed = subprocess.run(  # noqa: S603 - our own script
            [sys.executable, str(BUILD_SCRIPT)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            pytest.fail(f"building the worker failed: {completed.stderr}", pytrace=False)
        _build_done.append(True)


@dataclass
class HarnessProcess:
    """A running harness: its base URL, the cold-start report, and its captured stderr."""

    process: subprocess.Popen[str]
    base_url: str
    cold_start: dict[str, Any]
    stderr_lines: list[str] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)
    stdout_lines: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def wait_ready(self) -> None:
        """Reads stdout up to the `ready` line, keeping the cold-start report on the way."""
        while True:
            try:
                line = self.stdout_lines.get(timeout=READY_TIMEOUT_SECONDS)
            except queue.Empty:
                self.process.kill()
                self.stop()
                pytest.fail(f"harness not ready in {READY_TIMEOUT_SECONDS}s: {self.stderr()}")
            if line is None:
                status = self.stop()
                pytest.fail(f"harness exited ({status}) before ready: {self.stderr()}")
            if line.startswith("cold-start "):
                self.cold_start = json.loads(line.removeprefix("cold-start "))
            if line.startswith("ready "):
                self.base_url = line.removeprefix("ready ").strip()
                return

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, as a process manager would; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self.close_pipes()

    def close_pipes(self) -> None:
        for reader in self.readers:
            reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def harness_command(
    *,
    worker: Path | None = None,
    variables: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    dev_vars: Path | None = None,
    port: int = 0,
    snapshot: bool = True,
) -> list[str]:
    command = [node_executable(), str(SERVE_SCRIPT), "--config", str(WRANGLER_TOML), "--no-build"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    if worker is not None:
        command += ["--worker", str(worker)]
    for name, value in (variables or {}).items():
        command += ["--var", f"{name}:{value}"]
    for name in secrets:
        command += ["--secret", name]
    if dev_vars is not None:
        command += ["--dev-vars", str(dev_vars)]
    if not snapshot:
        command += ["--no-snapshot"]
    return command


def _pump(stream: Any, sink: queue.Queue[str | None] | list[str]) -> None:
    for line in stream:
        if isinstance(sink, list):
            sink.append(line)
        else:
            sink.put(line)
    if not isinstance(sink, list):
        sink.put(None)


def launch_harness(
    command: list[str],
    *,
    environment: Mapping[str, str] | None = None,
    wrap: Iterable[str] = (),
) -> HarnessProcess:
    """Starts the harness without waiting for it (several can boot side by side)."""
    process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        [*wrap, *command],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(environment or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout_lines: queue.Queue[str | None] = queue.Queue()
    stderr_lines: list[str] = []
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, stdout_lines), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, stderr_lines), daemon=True),
    ]
    for reader in readers:
        reader.start()
    return HarnessProcess(process, "", {}, stderr_lines, readers, stdout_lines)


def start_harness(
    command: list[str],
    *,
    environment: Mapping[str, str] | None = None,
    wrap: Iterable[str] = (),
) -> HarnessProcess:
    """Starts the harness and waits for its `ready` line (failing with its stderr if it dies)."""
    harness = launch_harness(command, environment=environment, wrap=wrap)
    harness.wait_ready()
    return harness
