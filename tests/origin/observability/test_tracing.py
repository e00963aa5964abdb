"""OpenTelemetry at the origin: bad ``OTEL_*`` values and unreachable collectors never break a
request; without an endpoint, OpenTelemetry is not even imported. (The trace from the edge to
the database and Redis: test_tracing_end_to_end.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.support.metrics import sample_sum
from tests.support.otlp_receiver import OtlpReceiver, traced_origin_environment
from tests.support.ports import free_port

BAD_SETTINGS = json.loads(
    (Path(__file__).parents[2] / "data" / "otel_bad_settings.json").read_text()
)["cases"]

pytestmark = pytest.mark.anyio


def run_probe(env: dict[str, str]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "tests.support.traced_origin_probe"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    result["log"] = [
        json.loads(line) for line in completed.stderr.splitlines() if line.startswith("{")
    ]
    return result


def tracing_warnings(log: list[dict[str, Any]]) -> list[str]:
    return [
        line["message"]
        for line in log
        if line.get("logger") == "outpost.origin.tracing" and line["level"] == "WARNING"
    ]


@pytest.mark.parametrize("backend", ["sqlite"])  # the database plays no part here
@pytest.mark.parametrize("case", BAD_SETTINGS, ids=[case["id"] for case in BAD_SETTINGS])
async def test_bad_otel_settings_never_break_a_request(
    case: dict[str, Any], receiver: OtlpReceiver, migrated_url: str, tmp_path: Path
) -> None:
    endpoint = case.get("endpoint", receiver.url)
    if endpoint == "closed":
        endpoint = f"http://127.0.0.1:{free_port()}"
    env = {
        **traced_origin_environment(endpoint, tmp_path),
        "DATABASE_URL": migrated_url,
        **case["environment"],
    }
    result = await anyio.to_thread.run_sync(run_probe, env)

    assert result["statuses"] == [404, 404, 404, 200]  # an empty catalog: every answer given
    warnings = tracing_warnings(result["log"])
    assert len(warnings) <= 1, warnings
    if "endpoint" in case:  # nothing can be delivered: said once, and counted
        assert len(warnings) == 1
        assert sample_sum(result["metrics"], "outpost_trace_spans_dropped_total") >= 1


# Redis imports the OpenTelemetry API and SDK on its own; what tracing adds is these.
TRACING_MODULES = (
    "origin.observability.otel",
    "opentelemetry.instrumentation",
    "opentelemetry.exporter",
    "opentelemetry.sdk.trace",
)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_without_an_endpoint_opentelemetry_is_not_even_imported(migrated_url: str) -> None:
    check = (
        "import sys\n"
        f"TRACING_MODULES = {TRACING_MODULES!r}\n"
        "from origin.app import create_app\n"
        "from origin.settings import Settings\n"
        "create_app(Settings.from_env())\n"
        "print(sorted(m for m in sys.modules if m.startswith(TRACING_MODULES)))\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    completed = await anyio.run_process(
        [sys.executable, "-c", check], env={**env, "DATABASE_URL": migrated_url}
    )
    assert completed.stdout.decode().strip() == "[]"
