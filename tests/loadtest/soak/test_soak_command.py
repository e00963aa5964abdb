"""``outpost soak`` end to end, short: half a minute of the mix at a low rate through the real
edge and origin, with no unintended error and the report's every part."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from commands import main as run_cli

ROOT = Path(__file__).resolve().parents[3]


def test_a_half_minute_soak_has_no_unintended_error_and_reports_every_part(
    tmp_path: Path,
) -> None:
    out = tmp_path / "soak"
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments, no shell
        [sys.executable, "-m", "commands", "soak", "--minutes", "0.5", "--rate", "8", "--out", out],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    summary = json.loads((out / "summary.json").read_text())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert summary["errors"] == 0, summary["errors_by_kind"]
    assert summary["requests"] > 8 * 30 * 0.7
    assert summary["memory_flat"]
    assert summary["passed"]
    assert 1 <= len(summary["per_minute"]) <= 2
    measured = {item["process"] for item in summary["memory"]}
    assert {"origin", "edge"} <= measured
    for item in summary["memory"]:
        assert item["mean_rss_mb"] > 1
        assert item["fds_max"] > 0
    for name in ("summary.md", "soak.png", "resources.csv", "edge-mix_samples.csv"):
        assert (out / name).is_file(), name
    text = (out / "summary.md").read_text()
    for section in ("## Errors by kind", "## Latency per minute", "## Memory and file"):
        assert section in text


def test_bad_options_stop_it_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["soak", "--minutes", "0", "--fraction", "2"]) == 2

    complaints = capsys.readouterr().err
    assert "--minutes must be positive" in complaints
    assert "--fraction must be above 0 and at most 1" in complaints
