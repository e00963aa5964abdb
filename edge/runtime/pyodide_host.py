"""Serve the Cloudflare worker under real Pyodide, locally (``outpost edge --runtime pyodide``).

Runs on CPython: starts the Node harness (tools/pyodide-host/serve.mjs), which loads the Pyodide
that wrangler.toml's compatibility_date selects and serves edge/worker.py. The edge's settings
are the given environment, exactly as for the CPython edge: each becomes a binding (names holding
``SECRET`` as secrets, read by the harness from its environment, never put on its command line),
and wrangler.toml's own [vars] that the environment does not set are blanked, so the deploy
placeholders (``https://origin.example.com``) never apply locally.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVE_SCRIPT = Path("tools") / "pyodide-host" / "serve.mjs"
# Settings the edge (edge/config.py, the worker) reads; anything else in the environment stays
# out of the worker's bindings.
EDGE_SETTING_PREFIXES = ("EDGE_", "ORIGIN_", "JWT_", "JWKS_", "GEOFENCE_", "CACHE_")


class HarnessUnavailable(RuntimeError):
    """Node, the pinned pyodide package or the worker's wheels are missing (with the fix)."""


def worker_bindings(
    env: Mapping[str, str], wrangler_vars: Sequence[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(vars, secrets) the worker gets for ``env``: edge settings only, wrangler's vars blanked."""
    variables = {name: "" for name in wrangler_vars}
    secrets: dict[str, str] = {}
    for name, value in env.items():
        if name in variables or name.startswith(EDGE_SETTING_PREFIXES):
            (secrets if "SECRET" in name else variables)[name] = value
    return variables, secrets


def harness_command(
    node: str,
    *,
    host: str,
    port: int,
    variables: Mapping[str, str],
    secret_names: Sequence[str],
    project_root: Path = PROJECT_ROOT,
) -> list[str]:
    command = [node, str(project_root / SERVE_SCRIPT)]
    command += [
        "--config",
        str(project_root / "wrangler.toml"),
        "--host",
        host,
        "--port",
        str(port),
    ]
    for name, value in variables.items():
        command += ["--var", f"{name}:{value}"]
    for name in secret_names:
        command += ["--secret", name]
    return command


def find_node(project_root: Path = PROJECT_ROOT) -> str:
    """The `node` to run the harness with; :class:`HarnessUnavailable` names the setup step."""
    node = shutil.which("node")
    if node is None:
        raise HarnessUnavailable("node is not on PATH: install Node.js 20 or newer")
    if not (project_root / "node_modules" / "pyodide" / "package.json").is_file():
        raise HarnessUnavailable("the pyodide npm package is missing: run `npm ci`")
    if not any((project_root / ".cache" / "pyodide-wheels").glob("*.whl")):
        raise HarnessUnavailable(
            "the worker's wheels are missing: run `sh tools/pyodide-host/fetch-wheels.sh`"
        )
    return node


def serve_pyodide(
    env: Mapping[str, str], *, host: str, port: int, project_root: Path = PROJECT_ROOT
) -> int:
    """Serve until interrupted (SIGINT/SIGTERM are passed on, so waitUntil work finishes);
    returns the exit status. The harness prints ``ready http://HOST:PORT`` once it serves."""
    try:
        node = find_node(project_root)
    except HarnessUnavailable as error:
        print(f"outpost edge: {error}", file=sys.stderr)
        return 2
    config = tomllib.loads((project_root / "wrangler.toml").read_text(encoding="utf-8"))
    variables, secrets = worker_bindings(env, list(config.get("vars", {})))
    command = harness_command(
        node, host=host, port=port, variables=variables, secret_names=list(secrets)
    )
    process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        command, cwd=project_root, env={**os.environ, **secrets}
    )

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        process.send_signal(signum)

    previous = {sig: signal.signal(sig, pass_on) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
