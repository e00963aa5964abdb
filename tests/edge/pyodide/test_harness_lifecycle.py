"""The harness boots Pyodide from scratch with no network at all, and on SIGTERM finishes
background work, then exits 0."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import service_missing
from tests.edge.pyodide.harness import HarnessProcess, harness_command, launch_harness
from tests.edge.pyodide.upstream import Upstream

PROBE_WORKER = Path(__file__).with_name("probe_worker.py")
# A fresh network namespace has no interface but a downed loopback: nothing outside is reachable.
NO_NETWORK = ["unshare", "--map-root-user", "--net", "sh", "-c", 'ip link set lo up && exec "$@"']


def require_network_namespaces() -> None:
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if unshare is None or ip is None:
        service_missing("unshare", "PATH", FileNotFoundError("util-linux unshare and iproute2 ip"))
    command = [*NO_NETWORK, "sh", "true"]
    probe = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if probe.returncode != 0:
        service_missing("unshare", "user namespaces", OSError(probe.stderr.strip()))


@pytest.fixture(scope="module")
def booted_pair(upstream: Upstream) -> Iterator[tuple[HarnessProcess, HarnessProcess]]:
    """An offline harness and an ordinary one, booted side by side to save a cold start."""
    require_network_namespaces()
    # From scratch (no snapshot): the path a first start takes, when it makes the snapshot.
    offline = launch_harness(
        harness_command(worker=PROBE_WORKER, snapshot=False), wrap=[*NO_NETWORK, "sh"]
    )
    online = launch_harness(
        harness_command(worker=PROBE_WORKER, variables={"ORIGIN_URL": upstream.base_url})
    )
    try:
        offline.wait_ready()
        online.wait_ready()
        yield offline, online
    finally:
        offline.stop()
        online.stop()


def test_the_harness_boots_without_any_network(
    booted_pair: tuple[HarnessProcess, HarnessProcess],
) -> None:
    offline, _ = booted_pair

    assert offline.base_url.startswith("http://127.0.0.1:")
    assert offline.cold_start["pyodide_snapshot"] == "none"
    assert offline.cold_start["total_ms"] > 0
    assert offline.stop() == 0


def test_sigterm_lets_background_work_finish_then_exits_zero(
    booted_pair: tuple[HarnessProcess, HarnessProcess], upstream: Upstream
) -> None:
    _, online = booted_pair
    token = secrets.token_hex(8)

    answered = httpx.get(f"{online.base_url}/background", params={"token": token}, timeout=30.0)
    started = time.monotonic()
    status = online.stop()

    assert answered.status_code == 202
    assert status == 0
    assert f"/beacon?token={token}" in upstream.paths()
    assert time.monotonic() - started < 10
