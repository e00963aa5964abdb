"""What a soak's records say, computed without I/O: latency minute by minute, errors by kind,
and whether each process's memory grows.

Memory is judged on the samples after the warm-up (the first :data:`WARM_UP_SHARE` of the run,
while caches and connection pools fill to their bounds): a least-squares line through RSS over
time gives the slope. The growth that line predicts over the judged window counts as *within
noise* when it is no larger than :data:`NOISE_SIGMAS` standard deviations of the samples around
the line, or than :data:`NEGLIGIBLE_GROWTH_SHARE` of the process's mean RSS: a leak is growth
that stands out from the wobble a garbage-collected process shows anyway.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from loadtest.report.samples import Sample
from loadtest.report.summary import percentile

WARM_UP_SHARE = 0.2
NOISE_SIGMAS = 3.0
NEGLIGIBLE_GROWTH_SHARE = 0.02
MIN_POINTS_FOR_SLOPE = 5


@dataclass(frozen=True, slots=True)
class ResourceSample:
    process: str
    elapsed_s: float  # since the soak began
    rss_bytes: int
    open_fds: int


@dataclass(frozen=True, slots=True)
class MinuteStats:
    minute: int  # 0 = the soak's first minute
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True, slots=True)
class Growth:
    """One process's RSS and open descriptors over the judged window."""

    process: str
    points: int
    mean_rss_mb: float
    slope_mb_per_hour: float
    growth_mb: float  # what the fitted line gains over the judged window
    noise_mb: float  # standard deviation of the samples around the line
    fds_first: int
    fds_last: int
    fds_max: int

    @property
    def within_noise(self) -> bool:
        allowed = max(NOISE_SIGMAS * self.noise_mb, NEGLIGIBLE_GROWTH_SHARE * self.mean_rss_mb)
        return self.growth_mb <= allowed


def per_minute(samples: Sequence[Sample]) -> list[MinuteStats]:
    """Latency percentiles and errors for each minute of the run, counted from when its first
    request was sent, by when each answer came."""
    if not samples:
        return []
    started_at = min(s.finished_at - s.response_time_ms / 1000 for s in samples)
    minutes: dict[int, list[Sample]] = {}
    for sample in samples:
        minute = max(0, int((sample.finished_at - started_at) // 60))
        minutes.setdefault(minute, []).append(sample)
    rows = []
    for minute in sorted(minutes):
        group = minutes[minute]
        ordered = sorted(sample.response_time_ms for sample in group)
        rows.append(
            MinuteStats(
                minute,
                len(group),
                sum(not sample.ok for sample in group),
                percentile(ordered, 50),
                percentile(ordered, 95),
                percentile(ordered, 99),
            )
        )
    return rows


def errors_by_kind(samples: Iterable[Sample]) -> dict[str, int]:
    """Failed requests counted by request and status (status 0: no HTTP answer at all)."""
    kinds = Counter(
        f"{_request_of(sample.name)} -> {sample.status or 'no answer'}"
        for sample in samples
        if not sample.ok
    )
    return dict(kinds.most_common())


def _request_of(name: str) -> str:
    """``"mix: product [HIT]"`` -> ``"mix: product"``: the cache outcome is not the error's kind."""
    return name.split(" [", 1)[0]


def growth(process: str, samples: Sequence[ResourceSample]) -> Growth | None:
    """The process's memory trend after the warm-up; None with too few samples to fit a line."""
    ordered = sorted(samples, key=lambda sample: sample.elapsed_s)
    if not ordered:
        return None
    end = ordered[-1].elapsed_s
    judged = [s for s in ordered if s.elapsed_s >= WARM_UP_SHARE * end]
    if len(judged) < MIN_POINTS_FOR_SLOPE:
        return None
    hours = [s.elapsed_s / 3600 for s in judged]
    megabytes = [s.rss_bytes / 1e6 for s in judged]
    slope, intercept = statistics.linear_regression(hours, megabytes)
    residuals = [mb - (slope * h + intercept) for h, mb in zip(hours, megabytes, strict=True)]
    fds = [s.open_fds for s in judged]
    return Growth(
        process=process,
        points=len(judged),
        mean_rss_mb=statistics.fmean(megabytes),
        slope_mb_per_hour=slope,
        growth_mb=slope * (hours[-1] - hours[0]),
        noise_mb=math.sqrt(statistics.fmean(r * r for r in residuals)),
        fds_first=fds[0],
        fds_last=fds[-1],
        fds_max=max(fds),
    )


def overall_percentiles(samples: Iterable[Sample]) -> dict[str, float | None]:
    ordered = sorted(sample.response_time_ms for sample in samples)
    if not ordered:
        return {"p50": None, "p95": None, "p99": None}
    return {f"p{p}": percentile(ordered, p) for p in (50, 95, 99)}
