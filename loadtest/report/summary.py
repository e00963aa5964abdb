"""The comparison: per scenario, the latency straight to the origin against through the edge.

Pure: it takes the runs' samples and counts and returns figures; reading files, checking and
rendering happen elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from loadtest.naming import SERVED_BY_EDGE_CACHE, parse_request_name
from loadtest.report.locust_csv import LocustRun
from loadtest.report.samples import Sample

DIRECT, EDGE = "direct", "edge"
TARGETS = (DIRECT, EDGE)
SETUP_SCENARIO = "setup"  # sign-in and catalog fetches before a scenario starts


@dataclass(frozen=True, slots=True)
class RunData:
    """One Locust run: one scenario against one target."""

    target: str
    scenario: str
    samples: tuple[Sample, ...]
    locust: LocustRun
    exit_code: int = 0


@dataclass(frozen=True, slots=True)
class LatencyStats:
    count: int
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, values: Iterable[float]) -> LatencyStats | None:
        ordered = sorted(values)
        if not ordered:
            return None
        return cls(
            len(ordered),
            percentile(ordered, 50),
            percentile(ordered, 95),
            percentile(ordered, 99),
        )


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One request name (scenario, request, cache outcome) on one target."""

    target: str
    name: str
    request: str
    cache: str
    stats: LatencyStats
    failures: int


@dataclass(frozen=True, slots=True)
class ScenarioSummary:
    scenario: str
    direct: LatencyStats | None
    edge: LatencyStats | None
    direct_errors: int
    edge_errors: int
    hit_ratio: float | None  # share of the edge's answers served from its cache
    requests: tuple[RequestRow, ...] = ()

    @property
    def gain_ms(self) -> float | None:
        if self.direct is None or self.edge is None:
            return None
        return self.direct.p50 - self.edge.p50

    @property
    def gain_percent(self) -> float | None:
        gain = self.gain_ms
        if gain is None or self.direct is None or self.direct.p50 <= 0:
            return None
        return 100.0 * gain / self.direct.p50


@dataclass(frozen=True, slots=True)
class Summary:
    scenarios: tuple[ScenarioSummary, ...]
    errors: int
    error_messages: tuple[str, ...] = field(default=())

    def scenario(self, name: str) -> ScenarioSummary | None:
        return next((item for item in self.scenarios if item.scenario == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "errors": self.errors,
            "error_messages": list(self.error_messages),
            "scenarios": [
                {
                    **asdict(item),
                    "gain_ms": _rounded(item.gain_ms),
                    "gain_percent": _rounded(item.gain_percent),
                }
                for item in self.scenarios
            ],
        }


def percentile(ordered: Sequence[float], percent: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default) of sorted values."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * percent / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(runs: Sequence[RunData], scenario_order: Sequence[str]) -> Summary:
    """Figures per scenario in ``scenario_order``, and every error of every run."""
    scenarios = tuple(_scenario_summary(runs, name) for name in scenario_order)
    errors = sum(run_errors(run) for run in runs)
    messages = tuple(
        f"{run.target} {run.scenario}: {message}"
        for run in runs
        for message in (*run.locust.failure_messages, *_exit_problem(run))
    )
    return Summary(scenarios, errors, messages)


def run_errors(run: RunData) -> int:
    """Failed requests (Locust's count), errors raised in user code, a run that did nothing."""
    nothing_ran = 1 if not any(_in_scenario(sample) for sample in run.samples) else 0
    return run.locust.total_failures + run.locust.exceptions + nothing_ran


def scenario_samples(runs: Iterable[RunData], target: str, scenario: str) -> list[Sample]:
    return [
        sample
        for run in runs
        if run.target == target
        for sample in run.samples
        if (name := parse_request_name(sample.name)) is not None and name.scenario == scenario
    ]


def _scenario_summary(runs: Sequence[RunData], scenario: str) -> ScenarioSummary:
    direct = scenario_samples(runs, DIRECT, scenario)
    edge = scenario_samples(runs, EDGE, scenario)
    served = sum(1 for sample in edge if _cache_of(sample) in SERVED_BY_EDGE_CACHE)
    return ScenarioSummary(
        scenario=scenario,
        direct=LatencyStats.of(sample.response_time_ms for sample in direct),
        edge=LatencyStats.of(sample.response_time_ms for sample in edge),
        direct_errors=sum(run_errors(run) for run in runs if _is(run, DIRECT, scenario)),
        edge_errors=sum(run_errors(run) for run in runs if _is(run, EDGE, scenario)),
        hit_ratio=served / len(edge) if edge else None,
        requests=_request_rows(DIRECT, direct) + _request_rows(EDGE, edge),
    )


def _request_rows(target: str, samples: list[Sample]) -> tuple[RequestRow, ...]:
    names = sorted({sample.name for sample in samples})
    rows = []
    for name in names:
        own = [sample for sample in samples if sample.name == name]
        parsed = parse_request_name(name)
        stats = LatencyStats.of(sample.response_time_ms for sample in own)
        if parsed is None or stats is None:
            continue
        failures = sum(1 for sample in own if not sample.ok)
        rows.append(RequestRow(target, name, parsed.request, parsed.cache, stats, failures))
    return tuple(rows)


def _cache_of(sample: Sample) -> str | None:
    parsed = parse_request_name(sample.name)
    return None if parsed is None else parsed.cache


def _in_scenario(sample: Sample) -> bool:
    parsed = parse_request_name(sample.name)
    return parsed is not None and parsed.scenario != SETUP_SCENARIO


def _is(run: RunData, target: str, scenario: str) -> bool:
    return run.target == target and run.scenario == scenario


def _exit_problem(run: RunData) -> tuple[str, ...]:
    if not any(_in_scenario(sample) for sample in run.samples):
        return (f"no request completed (Locust exit code {run.exit_code}; see its log)",)
    return ()


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
