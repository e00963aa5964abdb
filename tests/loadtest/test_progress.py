"""The live progress display reads Locust's stats history and redraws one line per phase."""

from __future__ import annotations

import io
from pathlib import Path

from loadtest.bench.plan import PlannedRun
from loadtest.bench.progress import HistoryPoint, Progress, latest_history, round_line

HISTORY_HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size"
)


def test_the_latest_aggregated_line_of_the_history_is_read(tmp_path: Path) -> None:
    path = tmp_path / "run_stats_history.csv"
    path.write_text(
        HISTORY_HEADER
        + "\n1,4,,Aggregated,3.5,0,17,,,,,,,,,,,40,0,17,25.8,3.8,95.7,582"
        + "\n2,4,,Aggregated,19.0,1.0,17,,,,,,,,,,,61,2,17,25.0,3.8,95.7,515\n"
    )
    assert latest_history(path) == HistoryPoint(19.0, 61, 2)


def test_no_history_yet_or_a_half_written_line_reads_as_nothing(tmp_path: Path) -> None:
    path = tmp_path / "run_stats_history.csv"
    assert latest_history(path) is None
    path.write_text(HISTORY_HEADER + "\n1,4,,Aggregated,3.")
    assert latest_history(path) is None


def test_a_round_line_names_the_scenario_the_time_and_each_target_s_current_rate() -> None:
    runs = (PlannedRun(3, "direct", "catalog"), PlannedRun(3, "edge", "catalog"))
    line = round_line(runs, 5, 4.25, 10.0, [HistoryPoint(24.5, 100, 0), None])
    assert line.startswith("[ 3/5] catalog     4.2/10 s")
    assert "direct  24.5 req/s   100 req 0 failed" in line
    assert line.endswith("| edge starting")


def test_a_round_line_never_shows_more_time_than_the_run_lasts() -> None:
    runs = (PlannedRun(1, "direct", "orders"), PlannedRun(1, "edge", "orders"))
    points = [HistoryPoint(25.0, 250, 0), HistoryPoint(24.0, 240, 1)]
    assert "10.0/10 s" in round_line(runs, 5, 11.7, 10.0, points)


def test_on_a_terminal_the_phase_line_is_redrawn_in_place() -> None:
    stream = io.StringIO()
    progress = Progress(stream, live=True)
    progress.update("phase 1")
    progress.finish("phase 1 done")
    output = stream.getvalue()
    assert output.count("\r") == 2
    assert output.endswith("phase 1 done\x1b[K\n")


def test_in_a_log_only_finished_phases_are_written() -> None:
    stream = io.StringIO()
    progress = Progress(stream, live=False)
    progress.update("phase 1 at 2 s")
    progress.finish("phase 1 done")
    progress.note("report written")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("phase 1 done")
    assert lines[1].endswith("report written")
    assert "\r" not in stream.getvalue()
