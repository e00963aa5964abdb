"""The Locust scenarios against a real local stack (origin, CPython edge, WAN proxies): exact
latencies recorded (also from workers in a distributed run), thresholds as exit codes,
intended refusals counted as successes, sign-in without given tokens, the step ramp."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtest.bench.plan import SCENARIO_USERS
from loadtest.bench.processes import free_port
from loadtest.report.locust_csv import read_locust_run
from loadtest.report.samples import Sample, read_samples
from loadtest.thresholds import THRESHOLD_EXIT_CODE
from tests.loadtest.running_stack import RunningStack

LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtest" / "locustfile.py"
SHAPES = LOCUSTFILE.with_name("shapes.py")
DIRECT_RTT_MS = 20.0  # user-edge 10 + edge-origin 10


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with RunningStack(tmp_path_factory.mktemp("stack-logs"), edge_origin_rtt_ms=10.0) as running:
        yield running


def locust(
    tmp_path: Path,
    *arguments: str,
    tokens: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "LOADTEST_TOKENS"}
    env.update(extra_env or {})
    if tokens:
        env["LOADTEST_TOKENS"] = ",".join(tokens)
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments, no shell
        [sys.executable, "-m", "locust", "--headless", "--loglevel", "WARNING", *arguments],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def short_run(
    tmp_path: Path,
    host: str,
    tags: str,
    user_class: str,
    *options: str,
    run_time: str = "3s",
    tokens: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Two users at 5 req/s against ``host``, exact latencies recorded in samples.csv."""
    return locust(
        tmp_path,
        "-f", str(LOCUSTFILE), "--host", host, "--users", "2", "--spawn-rate", "2",
        "--user-rate", "5", "--run-time", run_time, "--tags", tags,
        "--exact-latencies", str(tmp_path / "samples.csv"), *options, user_class,
        tokens=tokens,
    )  # fmt: skip


def scenario_samples(path: Path) -> list[Sample]:
    return [sample for sample in read_samples(path) if not sample.name.startswith("setup:")]


def test_the_locustfile_offers_one_user_class_per_bench_scenario(tmp_path: Path) -> None:
    listed = locust(tmp_path, "-f", str(LOCUSTFILE), "--list")
    assert listed.returncode == 0, listed.stderr
    assert set(SCENARIO_USERS.values()) <= set(listed.stdout.split())


def test_a_distributed_run_records_every_exact_latency_and_fails_its_p95_threshold(
    stack: RunningStack, tmp_path: Path
) -> None:
    assert stack.urls is not None
    samples_file = tmp_path / "samples.csv"
    master_port = str(free_port())
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments, no shell
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--worker",
            "--master-port",
            master_port,
            "--loglevel",
            "WARNING",
        ],
        cwd=tmp_path,
        env={**os.environ, "LOADTEST_TOKENS": ",".join(stack.tokens)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        master = locust(
            tmp_path,
            "-f", str(LOCUSTFILE), "--master", "--master-bind-port", master_port,
            "--expect-workers", "1", "--host", stack.urls.direct,
            "--users", "2", "--spawn-rate", "2", "--user-rate", "4", "--run-time", "4s",
            "--tags", "catalog", "--csv", str(tmp_path / "run"),
            "--exact-latencies", str(samples_file), "--max-p95-ms", "5",
            "CatalogReader",
        )  # fmt: skip
        worker.wait(timeout=30)
    finally:
        worker.kill()

    assert master.returncode == THRESHOLD_EXIT_CODE, master.stderr
    assert "p95" in master.stderr
    samples = scenario_samples(samples_file)
    counts = read_locust_run(tmp_path / "run")
    assert len(samples) + 1 == counts.total_requests  # + the setup catalog fetch
    assert len(samples) >= 10
    assert {sample.name.rsplit(" ", 1)[1] for sample in samples} == {"[DIRECT]"}
    assert all(sample.ok and sample.status == 200 for sample in samples)
    assert min(sample.response_time_ms for sample in samples) >= DIRECT_RTT_MS - 1.0
    assert any(not sample.response_time_ms.is_integer() for sample in samples)


def test_through_the_edge_401_and_451_refusals_are_successes(
    stack: RunningStack, tmp_path: Path
) -> None:
    assert stack.urls is not None
    result = short_run(
        tmp_path,
        stack.urls.edge,
        "refusals",
        "RefusedRequests",
        "--max-fail-ratio",
        "0",
        tokens=stack.tokens,
    )
    assert result.returncode == 0, result.stderr
    samples = scenario_samples(tmp_path / "samples.csv")
    statuses = {(sample.name, sample.status, sample.ok) for sample in samples}
    assert statuses == {
        ("refusals: bad token [BYPASS]", 401, True),
        ("refusals: blocked country [BYPASS]", 451, True),
    }


def test_straight_to_the_origin_a_blocked_country_is_served_and_a_bad_token_refused(
    stack: RunningStack, tmp_path: Path
) -> None:
    assert stack.urls is not None
    result = short_run(
        tmp_path, stack.urls.direct, "refusals", "RefusedRequests", tokens=stack.tokens
    )
    assert result.returncode == 0, result.stderr
    samples = scenario_samples(tmp_path / "samples.csv")
    statuses = {(sample.name, sample.status, sample.ok) for sample in samples}
    assert statuses == {
        ("refusals: bad token [DIRECT]", 401, True),
        ("refusals: blocked country [DIRECT]", 200, True),
    }


def test_without_given_tokens_each_process_registers_and_signs_in(
    stack: RunningStack, tmp_path: Path
) -> None:
    assert stack.urls is not None
    result = short_run(tmp_path, stack.urls.edge, "private", "PrivateReader")
    assert result.returncode == 0, result.stderr
    samples = read_samples(tmp_path / "samples.csv")
    setup = [(sample.name, sample.status) for sample in samples if sample.name.startswith("setup")]
    assert ("setup: register", 202) in setup
    assert ("setup: sign in", 200) in setup
    private = scenario_samples(tmp_path / "samples.csv")
    assert {sample.name for sample in private} == {
        "private: me [BYPASS]",
        "private: my orders [BYPASS]",
    }
    assert all(sample.ok for sample in private)


def test_orders_place_and_replay_through_the_edge_with_idempotency_keys(
    stack: RunningStack, tmp_path: Path
) -> None:
    assert stack.urls is not None
    result = short_run(
        tmp_path,
        stack.urls.edge,
        "orders",
        "OrderWriter",
        "--max-fail-ratio",
        "0",
        run_time="4s",
        tokens=stack.tokens,
    )
    assert result.returncode == 0, result.stderr
    samples = scenario_samples(tmp_path / "samples.csv")
    assert {sample.name for sample in samples} == {
        "orders: place [BYPASS]",
        "orders: replay [BYPASS]",
    }
    assert all(sample.ok and sample.status == 201 for sample in samples)


def test_the_step_ramp_raises_users_stage_by_stage_and_ends_the_test(
    stack: RunningStack, tmp_path: Path
) -> None:
    assert stack.urls is not None
    result = locust(
        tmp_path,
        "-f", f"{LOCUSTFILE},{SHAPES}", "--host", stack.urls.edge, "--user-rate", "2",
        "--tags", "catalog", "--csv", str(tmp_path / "ramp"), "CatalogReader",
        tokens=stack.tokens,
        extra_env={"RAMP_STAGES": "2:1,2:3"},
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with (tmp_path / "ramp_stats_history.csv").open(newline="") as stream:
        users = [int(row["User Count"]) for row in csv.DictReader(stream)]
    assert 1 in users
    assert max(users) == 3
