"""A soak's report: ``summary.md``, ``summary.json`` and ``soak.png`` in its directory."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loadtest.soak.analysis import (
    NEGLIGIBLE_GROWTH_SHARE,
    NOISE_SIGMAS,
    WARM_UP_SHARE,
    Growth,
    MinuteStats,
    ResourceSample,
)
from loadtest.soak.capacity import Step

SUMMARY_MD = "summary.md"
SUMMARY_JSON = "summary.json"
PLOT_PNG = "soak.png"


@dataclass(frozen=True, slots=True)
class SoakReport:
    settings: Mapping[str, Any]
    capacity_steps: Sequence[Step]
    capacity_rate: float | None
    rate: float
    requests: int
    errors_by_kind: Mapping[str, int]
    overall: Mapping[str, float | None]
    minutes: Sequence[MinuteStats]
    growth: Sequence[Growth]

    @property
    def errors(self) -> int:
        return sum(self.errors_by_kind.values())

    @property
    def memory_flat(self) -> bool:
        return bool(self.growth) and all(item.within_noise for item in self.growth)

    @property
    def passed(self) -> bool:
        return self.requests > 0 and self.errors == 0 and self.memory_flat

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": dict(self.settings),
            "capacity": {
                "rate": self.capacity_rate,
                "steps": [
                    {**asdict(step), "passed": step.passes(self.settings["p99_bound_ms"])}
                    for step in self.capacity_steps
                ],
            },
            "rate": self.rate,
            "requests": self.requests,
            "errors": self.errors,
            "errors_by_kind": dict(self.errors_by_kind),
            "latency_ms": dict(self.overall),
            "per_minute": [asdict(row) for row in self.minutes],
            "memory": [{**asdict(item), "within_noise": item.within_noise} for item in self.growth],
            "memory_flat": self.memory_flat,
            "passed": self.passed,
        }


def render(report: SoakReport) -> str:
    settings = report.settings
    lines = [
        "# Soak: the realistic mix through the edge",
        "",
        f"- Started {settings['started_at']}; {settings['minutes']:g} min at "
        f"{report.rate:g} req/s ({settings['rate_source']}).",
        f"- Stack: origin (SQLite) + {settings['edge_runtime']} edge on one machine, "
        f"user-edge RTT {settings['user_edge_rtt_ms']:g} ms, edge-origin "
        f"{settings['edge_origin_rtt_ms']:g} ms.",
        f"- Verdict: **{'passed' if report.passed else 'FAILED'}** ({report.requests} requests, "
        f"{report.errors} unintended errors, memory "
        f"{'flat within noise' if report.memory_flat else 'GROWING or not measured'}).",
        "",
    ]
    lines += _capacity_section(report)
    lines += [
        "## Errors by kind",
        "",
        *(
            [f"- `{kind}`: {count}" for kind, count in report.errors_by_kind.items()]
            or ["None: every answer was the one the scenario expects (401/451 included)."]
        ),
        "",
        "## Latency per minute (ms)",
        "",
        "| minute | requests | errors | p50 | p95 | p99 |",
        "|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {row.minute + 1} | {row.requests} | {row.errors} | {row.p50_ms:.1f} | "
            f"{row.p95_ms:.1f} | {row.p99_ms:.1f} |"
            for row in report.minutes
        ),
        "",
        "## Memory and file descriptors",
        "",
        f"Judged after the first {WARM_UP_SHARE:.0%} of the run. Within noise: the fitted growth "
        f"is at most {NOISE_SIGMAS:g} standard deviations of the samples around the line, or "
        f"{NEGLIGIBLE_GROWTH_SHARE:.0%} of the mean RSS.",
        "",
        "| process | mean RSS MB | slope MB/h | growth MB | noise MB | within noise "
        "| fds first/last/max |",
        "|---|---:|---:|---:|---:|---|---|",
        *(
            f"| {g.process} | {g.mean_rss_mb:.1f} | {g.slope_mb_per_hour:+.2f} | "
            f"{g.growth_mb:+.2f} | {g.noise_mb:.2f} | {'yes' if g.within_noise else 'NO'} | "
            f"{g.fds_first}/{g.fds_last}/{g.fds_max} |"
            for g in report.growth
        ),
        "",
        f"Files: {SUMMARY_JSON}, {PLOT_PNG}, edge-mix_samples.csv (every request), resources.csv "
        "(RSS and fds over time), capacity/ (each capacity step's Locust files), logs/.",
        "",
    ]
    return "\n".join(lines)


def _capacity_section(report: SoakReport) -> list[str]:
    bound = report.settings["p99_bound_ms"]
    if not report.capacity_steps:
        return ["## Capacity", "", "Not measured: the rate was given (`--rate`).", ""]
    return [
        "## Capacity",
        "",
        f"The highest rate at which the mix's p99 through the edge stayed under {bound:g} ms "
        "with no unintended error: "
        + (f"**{report.capacity_rate:g} req/s**." if report.capacity_rate else "none."),
        "",
        "| rate req/s | achieved | requests | errors | p99 ms | passed |",
        "|---:|---:|---:|---:|---:|---|",
        *(
            f"| {step.rate:g} | {step.achieved_rate:.1f} | {step.requests} | {step.errors} | "
            f"{'-' if step.p99_ms is None else f'{step.p99_ms:.1f}'} | "
            f"{'yes' if step.passes(bound) else 'no'} |"
            for step in report.capacity_steps
        ),
        "",
    ]


def write(out_dir: Path, report: SoakReport, resources: Sequence[ResourceSample]) -> None:
    (out_dir / SUMMARY_JSON).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    (out_dir / SUMMARY_MD).write_text(render(report))
    plot(out_dir / PLOT_PNG, report.minutes, resources)


def plot(path: Path, minutes: Sequence[MinuteStats], resources: Sequence[ResourceSample]) -> None:
    """Three panels: latency percentiles per minute, RSS over time, open fds over time."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.0, 10.0), layout="constrained")
    latency, memory, descriptors = figure.subplots(3, 1)
    x = [row.minute + 1 for row in minutes]
    for label, values in (
        ("p50", [row.p50_ms for row in minutes]),
        ("p95", [row.p95_ms for row in minutes]),
        ("p99", [row.p99_ms for row in minutes]),
    ):
        latency.plot(x, values, marker="o", label=label)
    latency.set(title="Latency per minute", xlabel="minute", ylabel="ms")
    latency.legend()
    for name in sorted({sample.process for sample in resources}):
        mine = [sample for sample in resources if sample.process == name]
        t = [sample.elapsed_s / 60 for sample in mine]
        memory.plot(t, [sample.rss_bytes / 1e6 for sample in mine], label=name)
        descriptors.plot(t, [sample.open_fds for sample in mine], label=name)
    memory.set(title="Resident memory (RSS)", xlabel="minute", ylabel="MB")
    descriptors.set(title="Open file descriptors", xlabel="minute", ylabel="fds")
    for axes in (memory, descriptors):
        if resources:
            axes.legend(fontsize="small")
    figure.savefig(path, dpi=100)
