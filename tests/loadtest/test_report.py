"""The bench report from run files: Locust's CSV for counts, the exact samples for latencies,
the checks issue 5 asks for, and summary.md / summary.json / latency.png."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from loadtest.report.checks import TOLERANCE_MS, all_passed
from loadtest.report.locust_csv import read_locust_run
from loadtest.report.markdown import ReportContext, render_summary
from loadtest.report.samples import Sample, SampleWriter, read_samples
from loadtest.report.summary import percentile
from loadtest.report.write import (
    PLOT_PNG,
    SUMMARY_JSON,
    SUMMARY_MD,
    Report,
    build_report,
    load_run,
    write_report,
)

STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,"
    "75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def write_run(
    directory: Path,
    label: str,
    samples: Sequence[Sample],
    failures: Sequence[tuple[str, str, int]] = (),
    exceptions: int = 0,
) -> Path:
    """Files as Locust (``--csv``) and the sample recorder write them for one run."""
    prefix = directory / label
    with (directory / f"{label}_samples.csv").open("w", newline="") as stream:
        writer = SampleWriter(stream)
        writer.write(sample.as_row() for sample in samples)
    names = sorted({sample.name for sample in samples})
    lines = [STATS_HEADER]
    for name in names:
        own = [s for s in samples if s.name == name]
        failed = sum(1 for s in own if not s.ok)
        lines.append(f"GET,{name},{len(own)},{failed}" + ",0" * 18)
    total_failed = sum(1 for s in samples if not s.ok)
    lines.append(f",Aggregated,{len(samples)},{total_failed}" + ",0" * 18)
    (directory / f"{label}_stats.csv").write_text("\n".join(lines) + "\n")
    with (directory / f"{label}_failures.csv").open("w", newline="") as stream:
        out = csv.writer(stream)
        out.writerow(["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"])
        for name, error, count in failures:
            out.writerow(["GET", name, error, count, 0, 0])
    with (directory / f"{label}_exceptions.csv").open("w", newline="") as stream:
        out = csv.writer(stream)
        out.writerow(["Count", "Message", "Traceback", "Nodes"])
        if exceptions:
            out.writerow([exceptions, "boom", "Traceback ...", "local"])
    return prefix


def series(name: str, values: Sequence[float], ok: bool = True, status: int = 200) -> list[Sample]:
    return [Sample(name, value, ok, status) for value in values]


def spread(centre: float, count: int = 20) -> list[float]:
    """``count`` latencies around ``centre`` (median exactly ``centre``)."""
    return [centre + (index - (count - 1) / 2) * 0.1 for index in range(count)]


def healthy_runs(directory: Path, *, forwarded_penalty_ms: float = 1.0) -> list[Path]:
    """A catalog and a private scenario as a working edge at 10 ms / 80 ms would produce."""
    return [
        write_run(directory, "direct-catalog", series("catalog: product [DIRECT]", spread(92.0))),
        write_run(
            directory,
            "edge-catalog",
            series("catalog: product [HIT]", spread(11.0, 18))
            + series("catalog: product [MISS]", spread(93.0, 2)),
        ),
        write_run(directory, "direct-private", series("private: me [DIRECT]", spread(93.0))),
        write_run(
            directory,
            "edge-private",
            series("private: me [BYPASS]", spread(93.0 + forwarded_penalty_ms)),
        ),
        write_run(
            directory,
            "direct-refusals",
            series("refusals: bad token [DIRECT]", spread(91.0), status=401),
        ),
        write_run(
            directory,
            "edge-refusals",
            series("refusals: bad token [BYPASS]", spread(10.8), status=401),
        ),
    ]


def report_of(directory: Path, user_edge_rtt_ms: float | None = 10.0) -> Report:
    runs = [
        load_run(path.name.split("-", 1)[0], path.name.split("-", 1)[1], path, 0)
        for path in sorted(directory.glob("*_stats.csv"))
        for path in [path.with_name(path.name.removesuffix("_stats.csv"))]
    ]
    return build_report(runs, ["catalog", "private", "refusals"], user_edge_rtt_ms)


def test_percentiles_interpolate_between_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 50) == 25.0
    assert percentile(values, 0) == 10.0
    assert percentile(values, 100) == 40.0
    assert percentile([7.0], 99) == 7.0


def test_samples_round_trip_through_their_csv(tmp_path: Path) -> None:
    samples = [Sample("catalog: product [HIT]", 10.123456, True, 200), Sample("x", 1.5, False, 0)]
    with (tmp_path / "s.csv").open("w", newline="") as stream:
        SampleWriter(stream).write(sample.as_row() for sample in samples)
    assert read_samples(tmp_path / "s.csv") == [
        Sample("catalog: product [HIT]", 10.123, True, 200),
        Sample("x", 1.5, False, 0),
    ]


def test_a_samples_file_with_other_columns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("name,ms\nx,1\n")
    with pytest.raises(ValueError, match="expected columns"):
        read_samples(tmp_path / "s.csv")


def test_locust_counts_come_from_the_aggregated_row_failures_and_exceptions(
    tmp_path: Path,
) -> None:
    prefix = write_run(
        tmp_path,
        "edge-orders",
        [
            *series("orders: place [BYPASS]", [100.0, 101.0]),
            Sample("orders: place [BYPASS]", 90, False, 409),
        ],
        failures=[("orders: place [BYPASS]", "expected HTTP 201, got 409", 1)],
        exceptions=2,
    )
    run = read_locust_run(prefix)
    assert (run.total_requests, run.total_failures, run.exceptions) == (3, 1, 2)
    assert run.failures_of("orders: place [BYPASS]") == 1
    assert run.failure_messages == ("GET orders: place [BYPASS]: expected HTTP 201, got 409 (x1)",)


def test_a_run_without_locust_statistics_is_an_error_not_an_empty_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no statistics"):
        read_locust_run(tmp_path / "edge-catalog")


def test_the_summary_compares_direct_and_edge_per_scenario(tmp_path: Path) -> None:
    healthy_runs(tmp_path)
    summary = report_of(tmp_path).summary

    catalog = summary.scenario("catalog")
    assert catalog is not None
    assert catalog.direct is not None
    assert catalog.edge is not None
    assert catalog.direct.p50 == pytest.approx(92.0)
    assert catalog.direct.count == 20
    assert catalog.edge.count == 20
    assert catalog.hit_ratio == pytest.approx(18 / 20)
    gain = 92.0 - catalog.edge.p50
    assert catalog.gain_ms == pytest.approx(gain)
    assert catalog.gain_percent == pytest.approx(100 * gain / 92.0)
    requests = {(row.target, row.cache): row.stats.count for row in catalog.requests}
    assert requests == {("direct", "DIRECT"): 20, ("edge", "HIT"): 18, ("edge", "MISS"): 2}
    assert summary.errors == 0


def test_a_working_edge_passes_every_check(tmp_path: Path) -> None:
    healthy_runs(tmp_path)
    report = report_of(tmp_path)
    verdicts = {check.name: check.passed for check in report.checks}
    assert verdicts == {
        f"catalog: cache hits p50 within {TOLERANCE_MS:g} ms of the user-to-edge RTT": True,
        f"catalog: forwarded p50 within {TOLERANCE_MS:g} ms of the direct path": None,
        f"private: forwarded p50 within {TOLERANCE_MS:g} ms of the direct path": True,
        f"refusals: edge refusals p50 within {TOLERANCE_MS:g} ms of the user-to-edge RTT": True,
        "no errors besides the intended 401/451": True,
    }
    assert report.passed


def test_forwarded_requests_much_slower_than_direct_fail_their_check(tmp_path: Path) -> None:
    healthy_runs(tmp_path, forwarded_penalty_ms=TOLERANCE_MS + 3)
    report = report_of(tmp_path)
    failed = [check for check in report.checks if check.passed is False]
    assert [check.name for check in failed] == [
        f"private: forwarded p50 within {TOLERANCE_MS:g} ms of the direct path"
    ]
    assert "me: edge 101.0 vs direct 93.0 ms (+8.0" in failed[0].detail
    assert not report.passed


def test_cache_hits_far_from_the_user_edge_rtt_fail_their_check(tmp_path: Path) -> None:
    healthy_runs(tmp_path)
    report = report_of(tmp_path, user_edge_rtt_ms=30.0)
    hits = next(check for check in report.checks if check.name.startswith("catalog: cache hits"))
    assert hits.passed is False
    assert "vs RTT 30 ms" in hits.detail


def test_against_real_deployments_the_rtt_checks_are_not_applicable(tmp_path: Path) -> None:
    healthy_runs(tmp_path)
    report = report_of(tmp_path, user_edge_rtt_ms=None)
    rtt_checks = [check for check in report.checks if "user-to-edge RTT" in check.name]
    assert rtt_checks
    assert all(check.passed is None for check in rtt_checks)
    assert report.passed


def test_failed_requests_and_user_errors_fail_the_error_check(tmp_path: Path) -> None:
    healthy_runs(tmp_path)
    write_run(
        tmp_path,
        "edge-private",
        [
            *series("private: me [BYPASS]", spread(94.0)),
            Sample("private: me [BYPASS]", 5, False, 502),
        ],
        failures=[("private: me [BYPASS]", "expected HTTP 200, got 502", 1)],
        exceptions=1,
    )
    report = report_of(tmp_path)
    errors = report.checks[-1]
    assert errors.passed is False
    assert errors.detail.startswith("2 error(s); first: edge private: GET private: me [BYPASS]")
    private = report.summary.scenario("private")
    assert private is not None
    assert (private.direct_errors, private.edge_errors) == (0, 2)


def test_a_run_in_which_no_scenario_request_completed_counts_as_an_error(tmp_path: Path) -> None:
    healthy_runs(tmp_path)
    write_run(tmp_path, "edge-refusals", [Sample("setup: catalog", 12.0, True, 200)])
    report = report_of(tmp_path)
    assert report.summary.errors == 1
    assert "no request completed" in report.summary.error_messages[0]
    assert not all_passed(report.checks)


def test_summary_md_json_and_plot_are_written(tmp_path: Path) -> None:
    prefixes = healthy_runs(tmp_path)
    report = report_of(tmp_path)
    runs = [load_run(p.name.split("-")[0], p.name.split("-", 1)[1], p, 0) for p in prefixes]
    context = ReportContext("Latency test", ("emulated 10 ms / 80 ms",), ("latency.png",))

    write_report(tmp_path, report, runs, context, {"rate": 25}, {"user-edge RTT": 10.0})

    markdown = (tmp_path / SUMMARY_MD).read_text()
    assert markdown.startswith("# Latency test\n\n- emulated 10 ms / 80 ms\n")
    assert "| catalog | 92.0 | " in markdown
    assert "| 90% | 0/0 |" in markdown  # hit ratio, errors direct/edge
    assert "| refusals: edge refusals p50 within 5 ms of the user-to-edge RTT | pass |" in markdown
    document = json.loads((tmp_path / SUMMARY_JSON).read_text())
    assert document["settings"] == {"rate": 25}
    assert document["passed"] is True
    assert [item["scenario"] for item in document["scenarios"]] == [
        "catalog",
        "private",
        "refusals",
    ]
    assert document["scenarios"][0]["direct"]["p50"] == pytest.approx(92.0)
    png = (tmp_path / PLOT_PNG).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000


def test_the_markdown_marks_failures_and_unevaluated_checks(tmp_path: Path) -> None:
    healthy_runs(tmp_path, forwarded_penalty_ms=20)
    report = report_of(tmp_path)
    text = render_summary(ReportContext("t", ()), report.summary, report.checks)
    assert "| private: forwarded p50 within 5 ms of the direct path | **FAIL** |" in text
    assert "| catalog: forwarded p50 within 5 ms of the direct path | not evaluated |" in text
