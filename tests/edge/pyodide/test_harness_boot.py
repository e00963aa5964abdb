"""The harness boots the runtime Cloudflare would run for wrangler.toml, entirely offline, and
lays out the worker as wrangler uploads it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.edge.pyodide.harness import HarnessProcess, wrangler_vars


@pytest.fixture(scope="module")
def boot_report(probe_harness: HarnessProcess) -> dict[str, Any]:
    response = httpx.get(f"{probe_harness.base_url}/__harness/stats", timeout=30.0)
    assert response.status_code == 200
    report: dict[str, Any] = response.json()
    return report


def test_the_cold_start_is_reported_by_phase(probe_harness: HarnessProcess) -> None:
    report = dict(probe_harness.cold_start)
    snapshot = report.pop("pyodide_snapshot")

    assert snapshot in {"created", "restored"}
    phases = {"load_pyodide_ms", "prepare_ms", "import_worker_ms", "total_ms", "cpu_ms"}
    assert set(report) == phases
    assert all(duration > 0 for duration in report.values())
    assert report["total_ms"] >= report["load_pyodide_ms"] + report["import_worker_ms"]


def test_booting_fetches_nothing_and_loads_no_pyodide_packages(boot_report: dict[str, Any]) -> None:
    assert boot_report["boot_network_requests"] == []
    assert boot_report["loaded_packages"] == []


def test_the_running_pyodide_is_the_one_the_compatibility_date_selects(
    boot_report: dict[str, Any],
) -> None:
    expected, running = boot_report["expected"], boot_report["running"]

    assert running["pyodide"] == expected["pyodide"]
    assert running["python"].startswith(f"{expected['python']}.")


def test_the_entry_is_uploaded_under_its_basename(boot_report: dict[str, Any]) -> None:
    assert boot_report["main_module"] == "probe_worker.py"
    assert boot_report["upload_set"][0] == "probe_worker.py"


def test_only_the_built_edge_and_shared_modules_are_loaded_besides_the_entry(
    boot_report: dict[str, Any],
) -> None:
    # The probe replaces the entry; the built tree's own entry (worker.py) stays a plain module.
    modules = boot_report["upload_set"][1:]

    assert "shared/__init__.py" in modules
    assert "shared/policies/geofence.json" in modules
    assert "edge/runtime/pyodide.py" in modules
    assert all(name.startswith(("edge/", "shared/")) or name == "worker.py" for name in modules)
    assert "edge/requirements.txt" not in modules
    assert "edge/runtime/cpython.py" not in modules
    assert "edge/runtime/pyodide_host.py" not in modules


def test_the_vendored_sdk_comes_from_python_modules_unpacked_from_the_pinned_wheel(
    boot_report: dict[str, Any],
) -> None:
    vendored = boot_report["vendored_modules"]

    assert "workers/__init__.py" in vendored
    assert "workers_runtime_sdk-1.9.5.dist-info/METADATA" in vendored
    assert not any(name.endswith(".pyc") for name in vendored)


def test_compatibility_flags_follow_the_compatibility_date(boot_report: dict[str, Any]) -> None:
    flags = boot_report["compatibility_flags"]

    assert flags["python_workers"] is True
    assert flags["python_request_headers_preserve_commas"] is True
    assert flags["enable_python_external_sdk"] is True


def test_the_env_holds_only_declared_bindings(boot_report: dict[str, Any]) -> None:
    declared = {*wrangler_vars(), "ORIGIN_URL", "EDGE_ASSERTION_SECRET", "PROBE_PROCESS_SECRET"}

    assert boot_report["env_names"] == sorted(declared)
    assert "dev-vars-secret-value" not in json.dumps(boot_report)
