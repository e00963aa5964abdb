"""The project's own edge/worker.py under Pyodide, as wrangler.toml configures it: imported as
the top-level module `worker`, and refusing to serve (JSON 500, details only in the log) when
its bindings are not a valid configuration — here wrangler.toml's placeholders without the
EDGE_ASSERTION_SECRET secret."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.edge.pyodide.harness import HarnessProcess, harness_command, start_harness


@pytest.fixture(scope="module")
def unconfigured_worker() -> Iterator[HarnessProcess]:
    harness = start_harness(harness_command())
    yield harness
    harness.stop()


def test_without_its_secret_the_worker_answers_a_json_500(
    unconfigured_worker: HarnessProcess,
) -> None:
    response = httpx.get(f"{unconfigured_worker.base_url}/api/products", timeout=30.0)

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "edge_misconfigured"
    assert "EDGE_ASSERTION_SECRET" not in response.text


def test_the_configuration_error_is_named_in_the_log(unconfigured_worker: HarnessProcess) -> None:
    httpx.get(f"{unconfigured_worker.base_url}/", timeout=30.0)

    deadline = time.monotonic() + 5
    while "EDGE_ASSERTION_SECRET" not in unconfigured_worker.stderr():
        assert time.monotonic() < deadline, unconfigured_worker.stderr()
        time.sleep(0.05)


def test_the_edge_worker_is_imported_as_top_level_worker_module(
    unconfigured_worker: HarnessProcess,
) -> None:
    report = httpx.get(f"{unconfigured_worker.base_url}/__harness/stats", timeout=30.0).json()

    assert report["main_module"] == "worker.py"
    assert "edge/worker.py" not in report["upload_set"]
    assert report["running"]["pyodide"] == "314.0.6"
    assert report["boot_network_requests"] == []
