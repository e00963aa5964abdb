"""``latency.png``: each scenario's latency distribution, direct and through the edge, side by side.

Box plots (box: p25-p75, line: median, whiskers: p5-p95) on one axis, with the emulated RTTs as
reference lines when they are known. Drawn with matplotlib's Agg canvas: no display needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

DIRECT_COLOUR = "#9e9e9e"
EDGE_COLOUR = "#f38020"  # Cloudflare orange


def plot_latencies(
    path: Path,
    samples: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    reference_lines_ms: Mapping[str, float],
    title: str,
) -> None:
    """``samples``: scenario -> (direct latencies, edge latencies), in ms, in display order."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    scenarios = list(samples)
    figure = Figure(figsize=(max(6.0, 1.6 * len(scenarios) + 2), 5.0), layout="constrained")
    axes = figure.subplots()
    for index, scenario in enumerate(scenarios):
        for offset, values, colour in (
            (-0.2, samples[scenario][0], DIRECT_COLOUR),
            (0.2, samples[scenario][1], EDGE_COLOUR),
        ):
            if not values:
                continue
            boxes = axes.boxplot(
                [list(values)],
                positions=[index + offset],
                widths=0.35,
                whis=(5, 95),
                showfliers=False,
                patch_artist=True,
                medianprops={"color": "black"},
            )
            for box in boxes["boxes"]:
                box.set_facecolor(colour)
    for label, value in reference_lines_ms.items():
        axes.axhline(value, linestyle="--", linewidth=0.8, color="#555555")
        axes.annotate(
            label,
            (len(scenarios) - 0.5, value),
            xytext=(0, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
        )
    axes.set_xticks(range(len(scenarios)), scenarios)
    axes.set_xlim(-0.6, len(scenarios) - 0.4)
    axes.set_ylim(bottom=0)
    axes.set_ylabel("latency (ms)")
    axes.set_title(title)
    axes.legend(
        handles=[
            Patch(facecolor=DIRECT_COLOUR, label="direct to origin"),
            Patch(facecolor=EDGE_COLOUR, label="through the edge"),
        ],
        loc="upper left",
    )
    axes.grid(axis="y", alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
