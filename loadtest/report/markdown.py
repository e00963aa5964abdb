"""``summary.md``: the comparison as tables a person reads (and a PR description can quote)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loadtest.report.checks import Check
from loadtest.report.summary import LatencyStats, ScenarioSummary, Summary


@dataclass(frozen=True, slots=True)
class ReportContext:
    """How the figures were produced, printed above them."""

    title: str
    setup_lines: tuple[str, ...]
    files: tuple[str, ...] = ()


def render_summary(context: ReportContext, summary: Summary, checks: Sequence[Check]) -> str:
    lines = [f"# {context.title}", ""]
    lines += [f"- {line}" for line in context.setup_lines]
    lines += [
        "",
        "## Scenarios",
        "",
        "Exact per-request latencies in ms (Locust's own tables round them: whole ms under "
        "100 ms, 10 ms above). Gain: direct p50 minus edge p50. Hit ratio: share of the edge's "
        "answers served from its cache (HIT or STALE).",
        "",
        "| scenario | direct p50 | p95 | p99 | edge p50 | p95 | p99 | gain p50 | gain | "
        "hit ratio | errors direct/edge |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [_scenario_row(item) for item in summary.scenarios]
    lines += ["", "## Checks", "", "| check | result | measured |", "|---|---|---|"]
    lines += [f"| {check.name} | {_verdict(check)} | {check.detail} |" for check in checks]
    lines += [
        "",
        "## Requests",
        "",
        "| scenario | target | request | X-Cache | n | p50 | p95 | p99 | failures |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for item in summary.scenarios:
        lines += [
            f"| {item.scenario} | {row.target} | {row.request} | {row.cache} | "
            f"{row.stats.count} | {row.stats.p50:.1f} | {row.stats.p95:.1f} | "
            f"{row.stats.p99:.1f} | {row.failures} |"
            for row in item.requests
        ]
    if summary.error_messages:
        lines += ["", "## Errors", ""]
        lines += [f"- {_escape(message)}" for message in summary.error_messages]
    if context.files:
        lines += ["", "## Files", ""]
        lines += [f"- {name}" for name in context.files]
    return "\n".join(lines) + "\n"


def _scenario_row(item: ScenarioSummary) -> str:
    gain = item.gain_ms
    percent = item.gain_percent
    return (
        f"| {item.scenario} | {_stats(item.direct)} | {_stats(item.edge)} | "
        f"{_number(gain, ' ms')} | {_number(percent, ' %', digits=0)} | "
        f"{_ratio(item.hit_ratio)} | {item.direct_errors}/{item.edge_errors} |"
    )


def _stats(stats: LatencyStats | None) -> str:
    if stats is None:
        return "- | - | -"
    return f"{stats.p50:.1f} | {stats.p95:.1f} | {stats.p99:.1f}"


def _number(value: float | None, unit: str, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _verdict(check: Check) -> str:
    if check.passed is None:
        return "not evaluated"
    return "pass" if check.passed else "**FAIL**"


def _escape(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")
