"""``outpost bench`` end to end: a short run writes the whole report with its checks; Ctrl-C
stops everything it started; bad options stop it before anything starts."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from commands import main as run_cli
from loadtest.bench.plan import SCENARIOS
from tests.loadtest.running_stack import RunningStack

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there


def bench(out: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "commands", "bench", "--out", str(out), *arguments]


def listening(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in command:
                found.append(int(entry.name))
    return found


def test_a_short_bench_writes_the_report_and_runs_its_checks(tmp_path: Path) -> None:
    out = tmp_path / "report"
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments, no shell
        bench(out, "--duration", "2", "--rate", "8"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    elapsed = time.monotonic() - started

    summary = json.loads((out / "summary.json").read_text())
    assert result.returncode == (0 if summary["passed"] else 1), result.stderr
    assert elapsed < 120
    for name in ("summary.md", "latency.png", "logs/origin.log", "logs/edge.log"):
        assert (out / name).is_file(), name
    for scenario in SCENARIOS:
        for target in ("direct", "edge"):
            for suffix in ("_stats.csv", "_samples.csv", ".html"):
                assert (out / f"{target}-{scenario}{suffix}").is_file()
    assert summary["errors"] == 0, summary["error_messages"]
    scenarios = {item["scenario"]: item for item in summary["scenarios"]}
    assert list(scenarios) == list(SCENARIOS)
    for item in scenarios.values():
        assert item["direct"]["count"] > 0
        assert item["edge"]["count"] > 0
    # Through the edge, refusals skip the 80 ms to the origin.
    fast = ["refusals", "catalog"]  # template:demo
    # template:no-demo: fast = ["refusals"]
    for scenario in fast:
        assert scenarios[scenario]["edge"]["p50"] < scenarios[scenario]["direct"]["p50"] - 40
    assert scenarios["catalog"]["hit_ratio"] > 0.5  # template:demo
    assert summary["settings"]["user_edge_rtt_ms"] == 10.0
    names = [check["name"] for check in summary["checks"]]
    assert "catalog: cache hits p50 within 5 ms of the user-to-edge RTT" in names  # template:demo
    assert "refusals: edge refusals p50 within 5 ms of the user-to-edge RTT" in names
    assert "private: forwarded p50 within 5 ms of the direct path" in names
    assert names[-1] == "no errors besides the intended 401/451"
    assert "## Checks" in result.stdout
    # The last round's line: both runs of the scenario, side by side.
    rounds, last = len(SCENARIOS), SCENARIOS[-1]
    assert re.search(
        rf"\[ *[\d.]+ s\] \[ *{rounds}/{rounds}\] {last} .* direct .* \| edge ", result.stdout
    )


@pytest.mark.parametrize(
    ("stop_signal", "code", "said"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_ctrl_c_or_sigterm_stops_the_origin_edge_and_locust_it_started(
    tmp_path: Path, stop_signal: signal.Signals, code: int, said: str
) -> None:
    out = tmp_path / "report"
    urls: list[str] = []
    with subprocess.Popen(  # noqa: S603 - our own interpreter and arguments, no shell
        bench(out, "--duration", "60", "--rate", "5"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            for line in process.stdout:
                urls += re.findall(r"ready at (http://127\.0\.0\.1:\d+)", line)
                if "warmed up" in line:
                    break
            time.sleep(2)  # the first Locust run is under way
            assert processes_mentioning(str(out)), "Locust should be running"
            process.send_signal(stop_signal)
            _, errors = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == code
    assert said in errors
    assert len(urls) == 2  # origin and edge
    assert not any(listening(url) for url in urls)
    assert processes_mentioning(str(out)) == []


def test_against_deployments_the_scenarios_run_with_nothing_started_or_emulated(
    tmp_path: Path,
) -> None:
    out = tmp_path / "report"
    with RunningStack(tmp_path / "deployment-logs", edge_origin_rtt_ms=10.0) as deployment:
        assert deployment.urls is not None
        urls = deployment.urls
        deployments = ["--edge-url", urls.edge, "--origin-url", urls.direct]
        short = ["--duration", "2", "--rate", "6", "--scenarios", "private,refusals"]
        result = subprocess.run(  # noqa: S603 - our own interpreter and arguments, no shell
            bench(out, *deployments, *short),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    summary = json.loads((out / "summary.json").read_text())
    assert result.returncode == (0 if summary["passed"] else 1), result.stderr
    assert "signed in 3 throwaway account(s)" in result.stdout  # a user per 2 req/s
    assert not (out / "logs" / "origin.log").exists()
    assert summary["settings"]["mode"] == "remote"
    assert summary["settings"]["targets"] == {
        "direct": deployment.urls.direct,
        "edge": deployment.urls.edge,
    }
    assert summary["errors"] == 0, summary["error_messages"]
    refusals = summary["scenarios"][1]
    assert {row["request"] for row in refusals["requests"]} == {"bad token"}
    rtt_checks = [check for check in summary["checks"] if "RTT" in check["name"]]
    assert rtt_checks
    assert all(check["passed"] is None for check in rtt_checks)


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--rate", "0"], "--rate must be above 0"),
        (["--edge-url", "https://edge.example"], "--edge-url and --origin-url go together"),
        (["--scenarios", "private,checkout"], "--scenarios: choose from"),
    ],
)
def test_unusable_options_stop_the_bench_before_it_starts_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], complaint: str
) -> None:
    out = tmp_path / "report"
    assert run_cli(["bench", "--out", str(out), *arguments]) == 2
    assert complaint in capsys.readouterr().err
    assert not out.exists()


def test_an_unreachable_deployment_is_reported_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments, no shell
        bench(tmp_path / "report", "--edge-url", UNREACHABLE, "--origin-url", UNREACHABLE),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("outpost bench: ")
    assert "Traceback" not in result.stderr
