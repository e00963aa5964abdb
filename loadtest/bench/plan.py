"""What a bench run will do, decided up front from its options: pure, no I/O."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

SCENARIO_USERS = {
    # template:demo-begin
    "catalog": "CatalogReader",
    "private": "PrivateReader",
    "orders": "OrderWriter",
    "refusals": "RefusedRequests",
    "mix": "Shopper",
    # template:demo-end
    # template:no-demo: "hello": "HelloReader",
    # template:no-demo: "private": "PrivateReader",
    # template:no-demo: "refusals": "RefusedRequests",
}
"""Each scenario's Locust user class (loadtest/scenarios.py) and tag."""
SCENARIOS = tuple(SCENARIO_USERS)
TARGETS = ("direct", "edge")
RUNTIMES = ("cpython", "workerd", "pyodide")  # pyodide: the old name of workerd

MAX_USER_RATE = 2.0
"""Requests per second one simulated user sends on average. A user waits for each answer (~95 ms
direct), and a random gap shorter than that is stretched to it; at 2/s that happens to one gap in
six and costs the rate under 2 %, so arrivals stay close to Poisson (at 5/s: one in three, -9 %)."""

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
    duration_s: float = 20.0
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
    number: int  # the scenario's round: its runs (one per target) share it
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
    """Users started per second so that all of them are sending within one user's mean gap:
    the run is at its full rate from its first second."""
    return users * user_rate


def plan_rounds(config: BenchConfig) -> list[tuple[PlannedRun, ...]]:
    """Each scenario in turn, its direct and edge runs at the same time.

    Side by side, both paths meet the same origin (its database, its caches, what else the
    machine is doing) at the same moments. Run one after the other they did not: the origin's
    state and the machine's load drifted between the two runs by more than the 5 ms the
    comparison allows (measured on one machine: ``place`` +14 ms through the edge back to back,
    +1.5 ms side by side).
    """
    return [
        tuple(PlannedRun(number, target, scenario) for target in TARGETS)
        for number, scenario in enumerate(config.scenarios, start=1)
    ]


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
