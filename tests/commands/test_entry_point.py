"""The ``outpost`` command assembles the verbs of the packages that are installed: all of them
here, the origin's alone in the production image (``shared``, ``origin`` and ``commands``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORIGIN_VERBS = ["origin", "db", "keys", "accounts", "token", "purger"]
ALL_VERBS = ["dev", *ORIGIN_VERBS, "edge", "new", "update", "bench", "soak"]  # template:demo
# template:no-demo: ALL_VERBS = ["dev", *ORIGIN_VERBS, "edge", "new", "update", "bench"]
# Runs the command the way the console script does, with only what is on sys.path: the
# development install's finder (which maps every package of the project) is taken out.
WITHOUT_THE_DEVELOPMENT_INSTALL = """
import runpy, sys
sys.meta_path[:] = [
    finder for finder in sys.meta_path
    if not getattr(finder, "__module__", type(finder).__module__).startswith("__editable__")
]
sys.argv[0] = "outpost"
runpy.run_module("commands", run_name="__main__", alter_sys=True)
"""


def run_command(
    *arguments: str, cwd: Path, isolated: bool = False
) -> subprocess.CompletedProcess[str]:
    launcher = ["-c", WITHOUT_THE_DEVELOPMENT_INSTALL] if isolated else ["-m", "commands"]
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, *launcher, *arguments],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def listed_verbs(help_text: str) -> list[str]:
    """The verbs ``--help`` lists, in its order (argparse indents each one by four spaces)."""
    return [
        line.split()[0]
        for line in help_text.splitlines()
        if line.startswith("    ") and not line.startswith("     ")
    ]


def test_every_installed_package_brings_its_verbs() -> None:
    helped = run_command("--help", cwd=ROOT)

    assert helped.returncode == 0, helped.stderr
    assert listed_verbs(helped.stdout) == ALL_VERBS


def test_the_production_image_s_packages_give_the_origin_s_verbs_only(tmp_path: Path) -> None:
    for package in ("shared", "origin", "commands"):  # the Dockerfile's COPY lines
        shutil.copytree(ROOT / package, tmp_path / package)

    helped = run_command("--help", cwd=tmp_path, isolated=True)
    db_helped = run_command("db", "--help", cwd=tmp_path, isolated=True)
    edge = run_command("edge", cwd=tmp_path, isolated=True)

    assert helped.returncode == 0, helped.stderr
    assert listed_verbs(helped.stdout) == ORIGIN_VERBS
    assert db_helped.returncode == 0, db_helped.stderr
    assert "upgrade" in db_helped.stdout
    assert edge.returncode == 2
    assert edge.stderr.splitlines()[-1].startswith("outpost: argument VERB: invalid choice: 'edge'")
