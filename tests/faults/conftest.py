"""Fixtures for the fault tests: servers of the test's own that it may stop, kill or starve.

A fault the machine cannot provoke (no PostgreSQL binaries, no right to mount a filesystem)
skips with the reason on a developer's machine and fails in CI (``CI=true``), like the service
fixtures in tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tests.support.postgres_server import PostgresServer, PostgresUnavailable, find_binaries


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server only this test uses, so it can be stopped and restarted."""
    try:
        server = PostgresServer(find_binaries())
    except PostgresUnavailable as error:
        service_missing("private postgres", "initdb/pg_ctl", error)
        raise AssertionError("unreachable: service_missing skips or fails") from error
    try:
        server.initialise()
        server.start()
    except PostgresUnavailable as error:
        server.remove()
        service_missing("private postgres", "initdb/pg_ctl", error)
    try:
        yield server
    finally:
        server.remove()


SMALL_DISK_SIZE = "48m"  # room for the demo database and its WAL; filled by the test itself


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of its own, a disk the test may fill up: mounted as root, or through passwordless
    sudo (CI runners) when not root; anyone may write to it."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    as_root = [] if os.geteuid() == 0 else ["sudo", "--non-interactive"]
    if as_root and shutil.which("sudo") is None:
        error = PermissionError("not root, and no sudo to mount with")
        service_missing("tmpfs", "mount -t tmpfs (needs root or passwordless sudo)", error)
    options = f"size={SMALL_DISK_SIZE},mode=1777"
    mounted = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [*as_root, "mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        error = PermissionError(mounted.stderr.strip() or "mount -t tmpfs failed")
        service_missing("tmpfs", "mount -t tmpfs (needs root or passwordless sudo)", error)
    try:
        yield mount_point
    finally:
        subprocess.run([*as_root, "umount", "--lazy", str(mount_point)], check=False)  # noqa: S603
