"""Fail the Locust run (exit code 3) when it breaks the thresholds given on the command line.

For CI: ``locust ... --headless --max-fail-ratio 0 --max-p95-ms 250`` exits non-zero when any
request failed or the 95th percentile is too slow. Checked once, as Locust quits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

THRESHOLD_EXIT_CODE = 3


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_fail_ratio: float | None = None
    max_p95_ms: float | None = None

    @classmethod
    def from_options(cls, options: Any) -> Thresholds:
        fail_ratio = getattr(options, "max_fail_ratio", -1.0)
        p95 = getattr(options, "max_p95_ms", 0.0)
        return cls(
            max_fail_ratio=fail_ratio if fail_ratio >= 0 else None,
            max_p95_ms=p95 if p95 > 0 else None,
        )


def broken_thresholds(thresholds: Thresholds, fail_ratio: float, p95_ms: float) -> list[str]:
    """What the run broke, in words; empty when it met every threshold."""
    broken = []
    if thresholds.max_fail_ratio is not None and fail_ratio > thresholds.max_fail_ratio:
        broken.append(f"fail ratio {fail_ratio:.2%} > {thresholds.max_fail_ratio:.2%}")
    if thresholds.max_p95_ms is not None and p95_ms > thresholds.max_p95_ms:
        broken.append(f"p95 {p95_ms:.0f} ms > {thresholds.max_p95_ms:.0f} ms")
    return broken


def install(environment: Any) -> None:
    """Check the thresholds when Locust quits (standalone or master; workers hold no totals)."""
    import logging

    from locust.runners import WorkerRunner

    if isinstance(environment.runner, WorkerRunner):
        return
    thresholds = Thresholds.from_options(environment.parsed_options)

    def check(environment: Any, **_: Any) -> None:
        total = environment.stats.total
        broken = broken_thresholds(
            thresholds, total.fail_ratio, total.get_response_time_percentile(0.95)
        )
        if broken:
            logging.getLogger("loadtest").error("thresholds broken: %s", "; ".join(broken))
            environment.process_exit_code = THRESHOLD_EXIT_CODE

    environment.events.quitting.add_listener(check)
