"""``tidy``: a rendered app's Python passes the app's own ``ruff check`` and ``ruff format``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from templating.tidy import excused_codes, tidy
from templating.tree import TreeFile

# The app's settings: a short limit so that small examples cross it; S603 is what the
# template excuses with a trailing comment, I001 is what leaving out an import can disturb.
PYPROJECT = (
    "[tool.ruff]\nline-length = 60\n\n"
    '[tool.ruff.lint]\nselect = ["E", "F", "I", "S603", "RUF100"]\n'
)


def app_with(**python: str) -> dict[str, TreeFile]:
    files = {
        path.replace("__", "/") + ".py": TreeFile(text.encode()) for path, text in python.items()
    }
    return {"pyproject.toml": TreeFile(PYPROJECT.encode()), **files}


def text_of(app: dict[str, TreeFile], path: str) -> str:
    return app[path].content.decode()


def ruff_findings(app: dict[str, TreeFile], root: Path) -> str:
    """What the app's own ``ruff check`` and ``ruff format --check`` say (empty: all clean)."""
    for path, file in app.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(file.content)
    said = ""
    for command in (("check", "--no-cache", "--quiet", "."), ("format", "--check", "--quiet", ".")):
        done = subprocess.run(  # noqa: S603 (ruff over files this test wrote)
            [sys.executable, "-m", "ruff", *command],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        said += done.stdout + done.stderr
    return said.strip()


def test_a_code_line_the_rename_lengthened_is_wrapped_by_the_formatter(tmp_path: Path) -> None:
    app = app_with(main="VALUE = dict(first_name_of_the_app=1, second_name_of_the_app=2)\n")

    tidied = tidy(app)

    assert text_of(tidied, "main.py") == (
        "VALUE = dict(\n    first_name_of_the_app=1, second_name_of_the_app=2\n)\n"
    )
    assert ruff_findings(tidied, tmp_path) == ""


def test_a_long_docstring_line_no_formatter_may_split_is_excused(tmp_path: Path) -> None:
    app = app_with(main='"""The ``a-rather-long-application-name dev`` command, explained."""\n')

    tidied = tidy(app)

    assert text_of(tidied, "main.py").endswith('explained."""  # noqa: E501\n')
    assert ruff_findings(tidied, tmp_path) == ""


def test_an_excuse_the_wrapping_carried_away_is_put_back_on_its_line(tmp_path: Path) -> None:
    code = (
        'import subprocess\n\nLEAN_APP_COMMAND = ["lean-app"]\n'
        'subprocess.run([*LEAN_APP_COMMAND, "database", "upgrade"], check=True)  # noqa: S603\n'
    )

    tidied = tidy(app_with(main=code))

    assert text_of(tidied, "main.py") == (
        'import subprocess\n\nLEAN_APP_COMMAND = ["lean-app"]\n'
        "subprocess.run(  # noqa: S603\n"
        '    [*LEAN_APP_COMMAND, "database", "upgrade"], check=True\n'
        ")\n"
    )
    assert ruff_findings(tidied, tmp_path) == ""


def test_an_import_block_disturbed_by_a_left_out_line_is_sorted_again(tmp_path: Path) -> None:
    code = "from __future__ import annotations\n\n\nimport os\n\nprint(os.sep)\n"

    tidied = tidy(app_with(main=code))

    assert text_of(tidied, "main.py") == (
        "from __future__ import annotations\n\nimport os\n\nprint(os.sep)\n"
    )
    assert ruff_findings(tidied, tmp_path) == ""


def test_a_real_finding_is_neither_fixed_nor_excused(tmp_path: Path) -> None:
    # F401 is excused somewhere in the app, yet an import nothing uses any more must still fail.
    app = app_with(
        main="import os\n\nVALUE = 1\n",
        api="from main import VALUE  # noqa: F401\n",
    )

    tidied = tidy(app)

    assert text_of(tidied, "main.py") == "import os\n\nVALUE = 1\n"
    assert "F401" in ruff_findings(tidied, tmp_path)


def test_files_other_than_python_are_left_alone() -> None:
    long_line = "x" * 200 + "\n"
    app = {**app_with(main="A = 1\n"), "README.md": TreeFile(long_line.encode(), executable=True)}

    assert tidy(app)["README.md"] == TreeFile(long_line.encode(), executable=True)


def test_an_app_without_ruff_settings_is_returned_as_it_is() -> None:
    app = {
        "pyproject.toml": TreeFile(b'[project]\nname = "x"\n'),
        "main.py": TreeFile(b"VALUE=dict( a =1)\n"),
    }

    assert tidy(app) == app


def test_tidying_is_deterministic_and_idempotent() -> None:
    app = app_with(main='"""A docstring far longer than sixty characters in all."""\nA=1\n')

    once = tidy(app)

    assert tidy(app) == once
    assert tidy(once) == once


def test_the_excused_codes_are_read_from_noqa_comments() -> None:
    files = [
        TreeFile(b"x = 1  # noqa: S603 - our own CLI\n"),
        TreeFile(b"import y  # noqa: F401, E402\n"),
        TreeFile(b"# a comment about noqa in general\n"),
    ]

    assert excused_codes(files) == {"S603", "F401", "E402"}
