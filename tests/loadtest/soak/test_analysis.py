"""A soak's figures: minute-by-minute latency, errors by kind, and a leak told from noise."""

from __future__ import annotations

import random

from loadtest.report.samples import Sample
from loadtest.soak.analysis import ResourceSample, errors_by_kind, growth, per_minute

START = 1_700_000_000.0


def sample(at: float, ms: float, ok: bool = True, status: int = 200) -> Sample:
    return Sample("mix: product [HIT]", ms, ok, status, START + at)


def test_latency_is_counted_minute_by_minute_from_the_first_request() -> None:
    samples = [sample(0.5, 10), sample(30, 20), sample(61, 100, ok=False, status=502)]

    minutes = per_minute(samples)

    assert [(m.minute, m.requests, m.errors) for m in minutes] == [(0, 2, 0), (1, 1, 1)]
    assert minutes[1].p99_ms == 100


def test_errors_are_grouped_by_request_and_status_whatever_the_cache_outcome() -> None:
    samples = [
        Sample("mix: product [HIT]", 1, False, 502),
        Sample("mix: product [MISS]", 1, False, 502),
        Sample("mix: place order [BYPASS]", 1, False, 0),
        Sample("mix: product [HIT]", 1, True, 200),
    ]

    assert errors_by_kind(samples) == {"mix: product -> 502": 2, "mix: place order -> no answer": 1}


def resource_series(mb_per_minute: float, noise_mb: float) -> list[ResourceSample]:
    wobble = random.Random(7)
    return [
        ResourceSample(
            "origin",
            t,
            int((100 + mb_per_minute * t / 60 + wobble.gauss(0, noise_mb)) * 1e6),
            30,
        )
        for t in range(0, 600, 2)
    ]


def test_memory_that_only_wobbles_is_within_noise() -> None:
    found = growth("origin", resource_series(mb_per_minute=0.0, noise_mb=1.0))

    assert found is not None
    assert found.within_noise
    assert abs(found.slope_mb_per_hour) < 10


def test_memory_that_climbs_steadily_is_a_leak_even_under_noise() -> None:
    found = growth("origin", resource_series(mb_per_minute=1.0, noise_mb=1.0))

    assert found is not None
    assert not found.within_noise
    assert 50 < found.slope_mb_per_hour < 70


def test_the_warm_up_is_left_out_of_the_judgement() -> None:
    filling = [ResourceSample("edge", t, int((50 + min(t, 60) / 6) * 1e6), 20) for t in range(300)]

    found = growth("edge", filling)

    assert found is not None
    assert found.within_noise, "caches filling in the first minute are not a leak"


def test_too_few_samples_give_no_verdict() -> None:
    assert growth("edge", [ResourceSample("edge", t, 1, 1) for t in range(3)]) is None
