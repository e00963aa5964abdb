"""Who may import whom: the layers in pyproject.toml ([tool.importlinter]), checked by
import-linter over the real import graph.

import-linter rather than a walk of our own over ``ast``: it is maintained, it sees every import
(inside functions and ``TYPE_CHECKING`` blocks too, where the heavy and optional ones live), the
rules are data next to the packages they name, and a broken rule is reported with the chain of
imports that breaks it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command line
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_package_imports_only_the_layers_below_it() -> None:
    linted = lint_imports(ROOT)

    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "0 broken" in linted.stdout


def test_an_origin_module_importing_the_edge_breaks_the_rules(tmp_path: Path) -> None:
    # The same contracts over a tree where the origin imports the edge and shared the origin.
    for package in ("shared", "origin", "edge", "loadtest", "templating", "commands"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "origin" / "app.py").write_text("def serve() -> None:\n    import edge.config\n")
    (tmp_path / "edge" / "config.py").write_text("")
    (tmp_path / "shared" / "rules.py").write_text("from origin import app\n")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())

    linted = lint_imports(tmp_path)

    assert linted.returncode != 0
    assert "origin.app -> edge.config" in linted.stdout
    assert "shared.rules -> origin.app" in linted.stdout
