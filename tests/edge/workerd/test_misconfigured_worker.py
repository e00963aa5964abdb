"""The project's own edge/worker.py under workerd, refusing to serve (JSON 500, details only in
the log) when its bindings are not a valid configuration: production mode without the
EDGE_ASSERTION_SECRET secret."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.edge.support.launchers import WorkerdLauncher


@pytest.fixture(scope="module")
def launcher() -> WorkerdLauncher:
    return WorkerdLauncher()


@pytest.fixture(scope="module")
def unconfigured_worker(launcher: WorkerdLauncher) -> Iterator[httpx.Client]:
    env = {"ORIGIN_URL": "http://127.0.0.1:1", "EDGE_MODE": "production"}
    with launcher.start(env) as url, httpx.Client(base_url=url, timeout=30.0) as client:
        yield client


def test_without_its_secret_the_worker_answers_a_json_500(
    unconfigured_worker: httpx.Client,
) -> None:
    response = unconfigured_worker.get("/api/products")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "edge_misconfigured"
    assert "EDGE_ASSERTION_SECRET" not in response.text


def test_the_configuration_error_is_named_in_the_log(
    unconfigured_worker: httpx.Client, launcher: WorkerdLauncher
) -> None:
    unconfigured_worker.get("/")

    deadline = time.monotonic() + 10
    while "EDGE_ASSERTION_SECRET" not in launcher.logs[-1].read_text(errors="replace"):
        assert time.monotonic() < deadline, launcher.logs[-1].read_text(errors="replace")
        time.sleep(0.1)
