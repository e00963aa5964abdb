"""Bring a rendered app's Python back in line with the app's own ruff settings.

Renaming ``outpost`` to a longer name lengthens every line it appears in, and leaving out demo
lines can leave code or imports laid out as the template never had them. So a rendered app is
formatted with ``ruff format`` under its own ``pyproject.toml``, its import blocks re-sorted
(I001), and the lines still over the length limit (a name in a docstring, a comment or a string,
which no formatter may split) get a ``# noqa: E501`` from ``ruff check --add-noqa``, so that a
new app passes its own checks at once. Splitting a line can carry its trailing ``# noqa: CODE``
away from the line it excuses, so in each file the formatter changed, the codes that file
excused are re-added where they now apply, and excuses left unused are dropped (RUF100).
Nothing else is fixed or excused: a real finding in a render (say, an import only the left-out
demo used) still fails the app's checks, as it should.

``new`` and ``update`` tidy every render the same way, so the three-way merge of ``update``
compares an app with renders made like it, and formatting never shows up as a change.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from templating.errors import TemplateError
from templating.tree import TreeFile

CONFIG_FILE = "pyproject.toml"
RUFF_SETTINGS = "[tool.ruff"
PYTHON_SUFFIXES = (".py", ".pyi")
LINE_TOO_LONG = "E501"
UNUSED_NOQA = "RUF100"
UNSORTED_IMPORTS = "I001"
_NOQA = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")
_FORMAT = ("format", "--no-cache", ".")  # not --quiet: it hides what failed


def tidy(app: dict[str, TreeFile]) -> dict[str, TreeFile]:
    """``app`` with its Python files formatted and marked by ruff, with the app's settings.

    An app without ruff settings in its ``pyproject.toml`` is returned as it is.
    """
    config = app.get(CONFIG_FILE)
    if config is None or RUFF_SETTINGS not in (config.text() or ""):
        return app
    python = {path: file for path, file in app.items() if path.endswith(PYTHON_SUFFIXES)}
    with tempfile.TemporaryDirectory(prefix="tidy-") as scratch:
        root = Path(scratch)
        (root / CONFIG_FILE).write_bytes(config.content)
        for path, file in python.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(file.content)
        _ruff(root, _FORMAT)
        _ruff(root, _check("--add-noqa", [LINE_TOO_LONG], "."))
        for path, codes in _reformatted_excuses(root, python).items():
            _ruff(root, _check("--add-noqa", codes, path))
        # The excused codes stay selected so that their excuses count as used, but unfixable.
        excused = sorted(excused_codes(python.values()) | {LINE_TOO_LONG})
        tidy_up = _check("--fix-only", [*excused, UNUSED_NOQA, UNSORTED_IMPORTS], ".")
        _ruff(root, (*tidy_up, "--unfixable", ",".join(excused)))
        tidied = dict(app)
        for path, file in python.items():
            content = (root / path).read_bytes()
            if content != file.content:
                tidied[path] = TreeFile(content, file.executable)
    return tidied


def excused_codes(files: Iterable[TreeFile]) -> set[str]:
    """The rule codes that ``# noqa: CODE`` comments in ``files`` excuse."""
    codes: set[str] = set()
    for file in files:
        for match in _NOQA.finditer(file.text() or ""):
            codes.update(code.strip() for code in match["codes"].split(","))
    return codes


def _reformatted_excuses(root: Path, rendered: dict[str, TreeFile]) -> dict[str, list[str]]:
    """The codes each file the formatter changed excused before: where excuses may have moved."""
    moved: dict[str, list[str]] = {}
    for path, file in rendered.items():
        codes = excused_codes([file])
        if codes and (root / path).read_bytes() != file.content:
            moved[path] = sorted(codes)
    return moved


def _check(action: str, codes: list[str], target: str) -> tuple[str, ...]:
    return ("check", "--no-cache", "--quiet", "--select", ",".join(codes), action, target)


def _ruff(root: Path, arguments: tuple[str, ...]) -> None:
    done = subprocess.run(  # noqa: S603 - a fixed command line over files we just wrote
        [sys.executable, "-m", "ruff", *arguments],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise TemplateError(f"ruff {arguments[0]} failed on the rendered app: {detail}")
