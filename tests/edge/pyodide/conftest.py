"""One harness process per test session serves the probe worker (Pyodide boots in seconds, so
it is booted once), in front of one real upstream HTTP server standing in for the origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.edge.pyodide.harness import HarnessProcess, harness_command, start_harness
from tests.edge.pyodide.upstream import Upstream, running_upstream

PROBE_WORKER = Path(__file__).with_name("probe_worker.py")
DEV_VARS_SECRET = "dev-vars-secret-value"
PROCESS_SECRET = "process-env-secret-value"


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    with running_upstream() as server:
        yield server


@pytest.fixture(scope="session")
def probe_harness(
    upstream: Upstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HarnessProcess]:
    dev_vars = tmp_path_factory.mktemp("harness") / ".dev.vars"
    dev_vars.write_text(f'# local secrets\nEDGE_ASSERTION_SECRET="{DEV_VARS_SECRET}"\n')
    command = harness_command(
        worker=PROBE_WORKER,
        variables={"ORIGIN_URL": upstream.base_url},
        secrets=["PROBE_PROCESS_SECRET"],
        dev_vars=dev_vars,
    )
    harness = start_harness(command, environment={"PROBE_PROCESS_SECRET": PROCESS_SECRET})
    yield harness
    harness.stop()


@pytest.fixture
def probe(probe_harness: HarnessProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=probe_harness.base_url, timeout=30.0) as client:
        yield client
