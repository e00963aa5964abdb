"""Several origin workers, one set of metrics: whichever worker answers ``/metrics`` reports the
requests of all of them, and the directory they share lives only as long as they do."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from origin.servers import SERVER_NAMES
from tests.origin.cli.test_serve import OUTPOST, running, wait_for
from tests.support.metrics import sample_sum, samples
from tests.support.ports import free_port

REQUESTS = 40


@pytest.mark.parametrize("server", SERVER_NAMES)
def test_one_scrape_sees_the_requests_of_every_worker(tmp_path: Path, server: str) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {
        "OUTPOST_DATA_DIR": str(tmp_path),
        "OUTPOST_LOG_LEVEL": "WARNING",
        "TMPDIR": str(temporary),  # where the supervisor makes the workers' metrics directory
        "OUTPOST_SERVER": server,
    }
    subprocess.run([*OUTPOST, "db", "upgrade"], env={**os.environ, **env}, check=True)  # noqa: S603
    admin_token = subprocess.run(  # noqa: S603
        [*OUTPOST, "token", "--sub", "operator", "--role", "admin"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    admin = {"Authorization": f"Bearer {admin_token}"}  # the route table: /metrics is theirs
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(["origin", "--port", str(port), "--workers", "2"], env) as process:
        wait_for(f"{base}/healthz")
        metrics_directories = list(temporary.iterdir())
        for _ in range(REQUESTS - 1):
            # A connection each, so the kernel hands them to both workers.
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        scrapes = [httpx.get(f"{base}/metrics", headers=admin, timeout=5).text for _ in range(6)]
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)

    assert process.returncode == 0
    for scrape in scrapes:
        assert sample_sum(scrape, "http_requests_total", route="/healthz") == REQUESTS
        workers = {
            dict(labels)["pid"] for name, labels in samples(scrape) if name == "outpost_worker_up"
        }
        assert len(workers) == 2
        cpu = {
            dict(labels)["pid"]
            for name, labels in samples(scrape)
            if name == "process_cpu_seconds_total"
        }
        assert cpu == workers
    assert len(metrics_directories) == 1
    assert list(temporary.iterdir()) == []  # removed once the workers stopped
