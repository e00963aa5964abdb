"""The project's own edge/worker.py, configured by wrangler.toml, serves under Pyodide."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.edge.pyodide.harness import (
    HarnessProcess,
    harness_command,
    start_harness,
    wrangler_vars,
)


@pytest.fixture(scope="module")
def edge_harness() -> Iterator[HarnessProcess]:
    harness = start_harness(harness_command())
    yield harness
    harness.stop()


def test_the_edge_worker_answers_a_get(edge_harness: HarnessProcess) -> None:
    response = httpx.get(f"{edge_harness.base_url}/", timeout=30.0)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["service"] == "outpost-edge"
    assert body["pyodide"] == "314.0.6"
    assert body["python"].startswith("3.14.")


def test_the_edge_worker_sees_the_vars_of_wrangler_toml(edge_harness: HarnessProcess) -> None:
    body = httpx.get(f"{edge_harness.base_url}/anything", timeout=30.0).json()

    assert body["jwt_issuer"] == wrangler_vars()["JWT_ISSUER"]


def test_the_edge_worker_is_imported_as_top_level_worker_module(
    edge_harness: HarnessProcess,
) -> None:
    report = httpx.get(f"{edge_harness.base_url}/__harness/stats", timeout=30.0).json()

    assert report["main_module"] == "worker.py"
    assert "edge/worker.py" not in report["upload_set"]
