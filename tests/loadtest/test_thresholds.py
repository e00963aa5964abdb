"""Locust exits with code 3 when a run breaks a threshold given on the command line."""

from __future__ import annotations

from argparse import Namespace

from loadtest.thresholds import Thresholds, broken_thresholds


def test_without_thresholds_nothing_is_ever_broken() -> None:
    thresholds = Thresholds.from_options(Namespace(max_fail_ratio=-1.0, max_p95_ms=0.0))
    assert thresholds == Thresholds()
    assert broken_thresholds(thresholds, fail_ratio=1.0, p95_ms=10_000) == []


def test_a_zero_fail_ratio_threshold_is_broken_by_one_failure() -> None:
    thresholds = Thresholds.from_options(Namespace(max_fail_ratio=0.0, max_p95_ms=0.0))
    assert broken_thresholds(thresholds, fail_ratio=0.0, p95_ms=50) == []
    assert broken_thresholds(thresholds, fail_ratio=0.001, p95_ms=50) == [
        "fail ratio 0.10% > 0.00%"
    ]


def test_a_p95_threshold_is_broken_only_above_it() -> None:
    thresholds = Thresholds(max_p95_ms=200.0)
    assert broken_thresholds(thresholds, fail_ratio=0.0, p95_ms=200.0) == []
    assert broken_thresholds(thresholds, fail_ratio=0.0, p95_ms=201.0) == ["p95 201 ms > 200 ms"]
