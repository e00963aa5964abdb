"""What ``outpost bench`` plans before starting anything: valid options, runs, Locust commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from commands import build_parser
from loadtest.bench.plan import (
    MAX_RATE,
    MAX_USER_RATE,
    SCENARIO_USERS,
    SCENARIOS,
    BenchConfig,
    locust_command,
    plan_rounds,
    problems,
    users_for,
)

OUT = Path("report")


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_defaults_are_valid_and_emulate_10_ms_to_the_edge_and_80_ms_beyond() -> None:
    config = BenchConfig(OUT)
    assert problems(config) == []
    assert (config.user_edge_rtt_ms, config.edge_origin_rtt_ms) == (10.0, 80.0)
    assert config.user_origin_rtt_ms == 90.0
    assert not config.remote


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        (BenchConfig(OUT, edge_url="https://edge.example"), "go together"),
        (BenchConfig(OUT, origin_url="https://origin.example"), "go together"),
        (BenchConfig(OUT, edge_url="edge", origin_url="https://o.example"), "--edge-url must"),
        (BenchConfig(OUT, rate=0), "--rate must"),
        (BenchConfig(OUT, rate=MAX_RATE + 1), "--rate must"),
        (BenchConfig(OUT, duration_s=0), "--duration must"),
        (BenchConfig(OUT, user_edge_rtt_ms=-1), "RTTs cannot be negative"),
        (BenchConfig(OUT, scenarios=("private", "checkout")), "choose from"),
        (BenchConfig(OUT, scenarios=()), "choose from"),
        (BenchConfig(OUT, edge_runtime="node"), "--edge-runtime"),
    ],
)
def test_unusable_options_are_refused_with_a_reason(config: BenchConfig, complaint: str) -> None:
    assert any(complaint in problem for problem in problems(config))


@pytest.mark.parametrize("rate", [0.5, 5.0, 7.0, 25.0, 499.0])
def test_users_share_the_rate_without_any_exceeding_the_per_user_pace(rate: float) -> None:
    users, user_rate = users_for(rate)
    assert users * user_rate == pytest.approx(rate)
    assert user_rate <= MAX_USER_RATE
    assert users == 1 or (users - 1) * MAX_USER_RATE < rate  # no more users than needed


def test_each_scenario_is_a_round_of_a_direct_and_an_edge_run_side_by_side() -> None:
    rounds = plan_rounds(BenchConfig(OUT, scenarios=("private", "refusals")))
    assert [[(run.number, run.label) for run in planned] for planned in rounds] == [
        [(1, "direct-private"), (1, "edge-private")],
        [(2, "direct-refusals"), (2, "edge-refusals")],
    ]


def test_every_scenario_has_a_locust_user_class() -> None:
    assert set(SCENARIO_USERS) == set(SCENARIOS)


def test_a_run_is_headless_bounded_and_writes_csv_html_and_exact_latencies() -> None:
    config = BenchConfig(OUT, duration_s=7.5, rate=12.0, scenarios=("private",))
    run = plan_rounds(config)[0][1]
    command = locust_command(run, config, "http://127.0.0.1:9", OUT / run.label, Path("lf.py"))

    assert "--headless" in command
    assert option(command, "--host") == "http://127.0.0.1:9"
    assert option(command, "--run-time") == "8s"
    assert option(command, "--users") == "6"
    assert float(option(command, "--user-rate")) == pytest.approx(2.0)
    assert option(command, "--tags") == "private"
    assert option(command, "--csv") == str(OUT / "edge-private")
    assert option(command, "--html") == str(OUT / "edge-private.html")
    assert option(command, "--exact-latencies") == str(OUT / "edge-private_samples.csv")
    assert command[3] == "PrivateReader"  # before --tags, which would swallow it
    assert "--exclude-tags" not in command


@pytest.mark.parametrize("rate", [1.0, 12.0, 25.0, 100.0])
def test_every_user_is_sending_within_one_mean_gap_of_the_start(
    rate: float,
) -> None:
    config = BenchConfig(OUT, rate=rate)
    run = plan_rounds(config)[0][0]
    command = locust_command(run, config, "http://h", OUT / "r", Path("lf.py"))
    users, pace = int(option(command, "--users")), 1 / float(option(command, "--user-rate"))
    start_gap = 1 / float(option(command, "--spawn-rate"))

    assert start_gap * users == pytest.approx(pace, rel=1e-5)


def test_real_deployments_leave_out_requests_faking_the_country() -> None:
    config = BenchConfig(OUT, edge_url="https://e.example", origin_url="https://o.example")
    run = plan_rounds(config)[0][0]
    command = locust_command(run, config, "https://o.example", OUT / run.label, Path("lf.py"))
    assert command[-2:] == ["--exclude-tags", "refuse-country"]
    assert command[3] == SCENARIO_USERS[SCENARIOS[0]]


def test_outpost_bench_s_defaults_are_the_plan_s_defaults() -> None:
    # loadtest/cli/bench.py repeats them so that `outpost --help` need not import the load test.
    args = build_parser().parse_args(["bench"])
    defaults = BenchConfig(OUT)
    given = (args.edge_runtime, args.user_edge_rtt_ms, args.edge_origin_rtt_ms)
    assert given == (defaults.edge_runtime, defaults.user_edge_rtt_ms, defaults.edge_origin_rtt_ms)
    assert (args.duration, args.rate) == (defaults.duration_s, defaults.rate)
    assert tuple(args.scenarios.split(",")) == defaults.scenarios == SCENARIOS
