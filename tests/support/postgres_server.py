"""A PostgreSQL server of the test's own, on a free port, that the test may stop and restart.

The shared PostgreSQL must never go down under other engineers' tests; this one exists for that.
It is built with the machine's own binaries (``initdb``, ``pg_ctl``) in a fresh directory.
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` account (which
then owns the directory); as anyone else, as that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.ports import free_port

START_TIMEOUT_SECONDS = 30
SERVICE_ACCOUNT = "postgres"


class PostgresUnavailable(RuntimeError):
    """This machine cannot run a private PostgreSQL (no binaries, or no account to run it as)."""


def find_binaries() -> Path:
    """The newest installed PostgreSQL's ``bin`` directory (Debian layout), or on the PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_major_version)
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path is None:
        raise PostgresUnavailable("no pg_ctl in /usr/lib/postgresql/*/bin or on PATH")
    return Path(on_path).parent


def _major_version(pg_ctl: str) -> int:
    version = Path(pg_ctl).parent.parent.name
    return int(version) if version.isdigit() else 0


class PostgresServer:
    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.port = free_port()
        self._as_user = _run_as()
        # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="outpost-private-pg-"))
        self.data_dir = self.root / "data"
        if self._as_user is not None:
            account = pwd.getpwnam(self._as_user)
            os.chown(self.root, account.pw_uid, account.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://{SERVICE_ACCOUNT}@127.0.0.1:{self.port}/postgres"

    def initialise(self) -> None:
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            SERVICE_ACCOUNT,
            "--auth",
            "trust",
            "--no-sync",
            "--encoding",
            "UTF8",
        )

    def start(self) -> None:
        """Start (or restart, on the same port); returns once it accepts connections."""
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self._run(
            "pg_ctl",
            "start",
            "--pgdata",
            str(self.data_dir),
            "--wait",
            "--timeout",
            str(START_TIMEOUT_SECONDS),
            "--log",
            str(self.root / "server.log"),
            "--options",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session at once (what a failover or a restart does to clients);
        ``immediate`` is a crash: no shutdown checkpoint, recovery from the WAL at next start."""
        self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--wait", "--mode", mode)

    def running(self) -> bool:
        status = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            self._argv("pg_ctl", "status", "--pgdata", str(self.data_dir)),
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def remove(self) -> None:
        if self.data_dir.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"

    def _argv(self, tool: str, *arguments: str) -> list[str]:
        command = [str(self.binaries / tool), *arguments]
        if self._as_user is None:
            return command
        return ["runuser", "-u", self._as_user, "--", *command]

    def _run(self, tool: str, *arguments: str) -> None:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            self._argv(tool, *arguments),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS + 30,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{tool} {arguments[0]} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}\n{self.log()[-2000:]}"
            )


def _run_as() -> str | None:
    """The account to run the server as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and there is no {SERVICE_ACCOUNT!r} account to run PostgreSQL as"
        ) from None
    if shutil.which("runuser") is None:
        raise PostgresUnavailable("running as root and runuser is not installed")
    return SERVICE_ACCOUNT
