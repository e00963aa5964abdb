"""What a bench run will do, decided up front from its options: pure, no I/O."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

SCENARIO_USERS = {
    "catalog": "CatalogReader",
    "private": "PrivateReader",
    "orders": "OrderWriter",
    "refusals": "RefusedRequests",
    "mix": "Shopper",
}
"""Each scenario's Locust user class (loadtest/scenarios.py) and tag."""
SCENARIOS = tuple(SCENARIO_USERS)
TARGETS = ("direct", "edge")
RUNTIMES = ("cpython", "pyodide")

MAX_USER_RATE = 5.0
"""Requests per second one simulated user sends: well under what one user can do at a 90 ms RTT
(~10/s), so constant throughput holds even when the origin slows a little."""

MAX_RATE = 500.0
"""Per run. One Locust process drives ~5k req/s and its latencies go wrong near saturation; this
stays under a tenth of that, leaving the CPU to the origin and edge sharing the machine."""

GEOFENCE_ONLY_LOCAL = "refuse-country"
"""Tag of the blocked-country requests: only an edge in local mode takes the country from a
header, so runs against real deployments leave them out."""


@dataclass(frozen=True, slots=True)
class BenchConfig:
    out_dir: Path
    edge_runtime: str = "cpython"
    user_edge_rtt_ms: float = 10.0
    edge_origin_rtt_ms: float = 80.0
    duration_s: float = 10.0
    rate: float = 25.0
    edge_url: str | None = None
    origin_url: str | None = None
    scenarios: tuple[str, ...] = SCENARIOS

    @property
    def remote(self) -> bool:
        """Against real deployments: nothing is started, nothing emulated."""
        return self.edge_url is not None

    @property
    def user_origin_rtt_ms(self) -> float:
        return self.user_edge_rtt_ms + self.edge_origin_rtt_ms


@dataclass(frozen=True, slots=True)
class PlannedRun:
    number: int
    target: str
    scenario: str

    @property
    def label(self) -> str:
        return f"{self.target}-{self.scenario}"


def problems(config: BenchConfig) -> list[str]:
    """Why the options cannot run, in words (empty when they can)."""
    found = []
    if (config.edge_url is None) != (config.origin_url is None):
        found.append("--edge-url and --origin-url go together (real deployments: give both)")
    for name, url in (("--edge-url", config.edge_url), ("--origin-url", config.origin_url)):
        if url is not None and not url.startswith(("http://", "https://")):
            found.append(f"{name} must be an http:// or https:// URL, got {url!r}")
    if config.edge_runtime not in RUNTIMES:
        found.append(f"--edge-runtime must be one of {', '.join(RUNTIMES)}")
    if config.user_edge_rtt_ms < 0 or config.edge_origin_rtt_ms < 0:
        found.append("RTTs cannot be negative")
    if config.duration_s <= 0:
        found.append("--duration must be positive")
    if not 0 < config.rate <= MAX_RATE:
        found.append(
            f"--rate must be above 0 and at most {MAX_RATE:g} req/s per run (more distorts "
            "Locust's own latencies on one machine; see docs/loadtest.md for distributed runs)"
        )
    unknown = sorted(set(config.scenarios) - set(SCENARIOS))
    if unknown or not config.scenarios:
        found.append(f"--scenarios: choose from {', '.join(SCENARIOS)} (got {unknown or 'none'})")
    return found


def users_for(rate: float) -> tuple[int, float]:
    """(users, task runs per second per user) that together send ``rate`` requests a second."""
    users = max(1, math.ceil(rate / MAX_USER_RATE))
    return users, rate / users


def spawn_rate(users: int, user_rate: float) -> float:
    """Users started per second so that they start ``1 / (users * user_rate)`` s apart, all
    within one user's pace: their requests then interleave evenly instead of in bursts."""
    return users * user_rate


def plan_runs(config: BenchConfig) -> list[PlannedRun]:
    """Each scenario direct, then through the edge, back to back (same conditions, in turn)."""
    runs: list[PlannedRun] = []
    for scenario in config.scenarios:
        for target in TARGETS:
            runs.append(PlannedRun(len(runs) + 1, target, scenario))
    return runs


def locust_command(
    run: PlannedRun, config: BenchConfig, host: str, prefix: Path, locustfile: Path
) -> list[str]:
    """The Locust command line of one run (headless, bounded time and rate, CSV + HTML)."""
    users, user_rate = users_for(config.rate)
    command = [
        sys.executable,
        "-m",
        "locust",
        # The user class first: --tags and --exclude-tags take every word after them.
        SCENARIO_USERS[run.scenario],
        "--locustfile",
        str(locustfile),
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        # Each user keeps the phase it started at, so starting them a pace apart (the old
        # --spawn-rate = users) made them fire in lock-step bursts that queue at the origin.
        f"{spawn_rate(users, user_rate):.6g}",
        "--run-time",
        f"{math.ceil(config.duration_s)}s",
        "--stop-timeout",
        "5",
        "--tags",
        run.scenario,
        "--user-rate",
        f"{user_rate:.6g}",
        "--csv",
        str(prefix),
        "--html",
        f"{prefix}.html",
        "--exact-latencies",
        f"{prefix}_samples.csv",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    if config.remote:
        command += ["--exclude-tags", GEOFENCE_ONLY_LOCAL]
    return command
