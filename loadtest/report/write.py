"""Turn a bench's run files into its report: ``summary.md``, ``summary.json``, ``latency.png``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loadtest.report.checks import Check, all_passed, evaluate_checks
from loadtest.report.locust_csv import read_locust_run
from loadtest.report.markdown import ReportContext, render_summary
from loadtest.report.samples import read_samples
from loadtest.report.summary import DIRECT, EDGE, RunData, Summary, scenario_samples, summarise

SUMMARY_MD = "summary.md"
SUMMARY_JSON = "summary.json"
PLOT_PNG = "latency.png"


@dataclass(frozen=True, slots=True)
class Report:
    summary: Summary
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all_passed(self.checks)


def samples_path(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + "_samples.csv")


def load_run(target: str, scenario: str, prefix: Path, exit_code: int) -> RunData:
    """One run's files, as Locust and the sample recorder left them under ``prefix``."""
    path = samples_path(prefix)
    samples = tuple(read_samples(path)) if path.is_file() else ()
    return RunData(target, scenario, samples, read_locust_run(prefix), exit_code)


def build_report(
    runs: Sequence[RunData], scenarios: Sequence[str], user_edge_rtt_ms: float | None
) -> Report:
    summary = summarise(runs, scenarios)
    return Report(summary, tuple(evaluate_checks(runs, summary, scenarios, user_edge_rtt_ms)))


def write_report(
    out_dir: Path,
    report: Report,
    runs: Sequence[RunData],
    context: ReportContext,
    settings: Mapping[str, Any],
    reference_lines_ms: Mapping[str, float],
) -> None:
    from loadtest.report.plot import plot_latencies

    scenarios = [item.scenario for item in report.summary.scenarios]
    plot_latencies(
        out_dir / PLOT_PNG,
        {
            scenario: (
                [s.response_time_ms for s in scenario_samples(runs, DIRECT, scenario)],
                [s.response_time_ms for s in scenario_samples(runs, EDGE, scenario)],
            )
            for scenario in scenarios
        },
        reference_lines_ms,
        context.title,
    )
    (out_dir / SUMMARY_MD).write_text(
        render_summary(context, report.summary, report.checks), encoding="utf-8"
    )
    document = {
        "settings": dict(settings),
        **report.summary.to_json(),
        "checks": [asdict(check) for check in report.checks],
        "passed": report.passed,
    }
    (out_dir / SUMMARY_JSON).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
