"""``new`` on the real template: this repository at its last commit, with this piece's code.

The template is a clone of the repository's HEAD; the template machinery's own files are
copied over from the working tree (and committed in the clone) so that the code under test is
what renders, exactly as it will once committed. The generated apps are checked with their own
tools: ``ruff check`` and a fast subset of their test suite, on their own ``PYTHONPATH``
(``generated_app_check.sh`` runs their whole README test command).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from templating.generate import create_app
from templating.names import MAX_NAME_LENGTH
from templating.record import RECORD_FILE
from templating.rules import TEMPLATE_SLUG, is_exempt, leftover_slugs
from templating.variants import NO_DEMO_OVERLAY, OVERLAY_SUFFIX
from tests.templating.repos import commit, git

PROJECT = Path(__file__).resolve().parents[2]
MACHINERY = ("templating", "docs/new-app.md")
FAST_TESTS = ("tests/shared", "tests/origin/test_settings.py")


@pytest.fixture(scope="module")
def real_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clone = tmp_path_factory.mktemp("real") / "template"
    git(PROJECT, "clone", "--quiet", "--shared", str(PROJECT), str(clone))
    for relative in MACHINERY:
        source, target = PROJECT / relative, clone / relative
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    if git(clone, "status", "--porcelain"):
        commit(clone, {}, "the template machinery as in the working tree")
    return clone


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("apps")


@pytest.fixture(scope="module")
def shop(real_template: Path, apps: Path) -> Path:
    return create_app(apps / "shop", "my-shop", source=str(real_template)).path


@pytest.fixture(scope="module")
def lean(real_template: Path, apps: Path) -> Path:
    return create_app(apps / "lean", "lean-app", source=str(real_template), demo=False).path


def tracked(app: Path) -> list[str]:
    return git(app, "ls-files").splitlines()


# The template's own editable install resolves any module the app lacks (origin.demo in a lean
# app) from the template's tree; drop its finder so the app sees only its own code.
_OWN_CODE_ONLY = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in f.__module__]; "
    "sys.argv = sys.argv[1:]; "
)


def python_in(app: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ...`` or ``python -c CODE`` as the app's own code would run it."""
    kind, target, *rest = arguments
    launch = (
        "runpy.run_module(sys.argv[0], run_name='__main__')"
        if kind == "-m"
        else "exec(sys.argv[0])"
    )
    return run_in(app, sys.executable, "-c", _OWN_CODE_ONLY + launch, target, *rest)


def run_in(app: Path, *command: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("OUTPOST_")
    }
    return subprocess.run(  # noqa: S603 (the test's own commands, no shell)
        command,
        cwd=app,
        env={**environment, "PYTHONPATH": str(app)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_no_template_slug_is_left_where_it_is_an_identity(shop: Path) -> None:
    leftovers = {}
    for path in tracked(shop):
        if is_exempt(path) or path == RECORD_FILE:
            continue
        assert TEMPLATE_SLUG not in path.lower(), path
        text = (shop / path).read_bytes().decode("utf-8", errors="ignore")
        if found := leftover_slugs(text):
            leftovers[path] = found
    assert leftovers == {}


def test_the_identities_carry_the_new_name(shop: Path) -> None:
    project = tomllib.loads((shop / "pyproject.toml").read_text())["project"]
    assert project["name"] == "my-shop"
    assert list(project["scripts"]) == ["my-shop"]
    assert 'ENV_PREFIX = "MY_SHOP_"' in (shop / "origin/settings.py").read_text()
    assert (shop / "README.md").read_text().startswith("# my-shop\n")
    assert tomllib.loads((shop / "wrangler.toml").read_text())["name"] == "my-shop"


def test_each_app_gets_its_own_secrets(shop: Path, lean: Path) -> None:
    def secret(app: Path) -> str:
        lines = (app / ".env").read_text().splitlines()
        return next(line for line in lines if line.startswith("EDGE_ASSERTION_SECRET="))

    assert secret(shop) != secret(lean)
    assert ".env" not in tracked(shop)


def test_the_app_passes_its_own_linter(shop: Path) -> None:
    result = ruff_in(shop, "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_passes_a_fast_subset_of_its_own_tests(shop: Path) -> None:
    result = python_in(shop, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FAST_TESTS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_an_app_s_ci_runs_its_own_test_command_and_none_of_the_template_s_checks(
    shop: Path, lean: Path
) -> None:
    assert "tests/templating/generated_app_check.sh" in (PROJECT / ".ci/run").read_text()
    for app in (shop, lean):
        ci = (app / ".ci/run").read_text()
        assert "\n./scripts/test\n" in ci
        assert "tests/templating" not in ci
        assert not (app / "tests/templating").exists()


def test_the_lean_app_has_no_demo(lean: Path) -> None:
    paths = tracked(lean)
    assert not [path for path in paths if "/demo/" in path or "demo_shop" in path]
    assert "origin/example.py" in paths


def test_every_overlay_file_sits_in_the_overlay_folder(real_template: Path) -> None:
    # One left elsewhere (a move that missed it) is never applied: the lean app would keep the
    # demo's version of the file, which imports what the lean app does not have.
    overlays = [path for path in tracked(real_template) if path.endswith(OVERLAY_SUFFIX)]
    assert overlays
    assert [path for path in overlays if not path.startswith(NO_DEMO_OVERLAY)] == []


def test_the_lean_app_measures_its_own_routes(lean: Path) -> None:
    scenarios = (lean / "loadtest" / "scenarios.py").read_text(encoding="utf-8")
    assert "class HelloReader" in scenarios
    assert "catalog" not in scenarios


def ruff_in(app: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return run_in(app, str(Path(sys.executable).with_name("ruff")), *arguments)


def test_the_app_is_formatted_as_its_own_formatter_wants(shop: Path) -> None:
    result = ruff_in(shop, "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_app_with_the_longest_name_passes_its_linter_and_formatter(
    real_template: Path, apps: Path
) -> None:
    # Every occurrence of the slug grows by 33 characters: lines the formatter cannot split
    # (prose, strings) carry a noqa comment for E501 instead.
    name = "-".join(["abcdefghij", "klmnopqrst", "uvwxyzabcd", "efghijk"])
    assert len(name) == MAX_NAME_LENGTH
    app = create_app(apps / "longest", name, source=str(real_template), demo=False).path

    lint = ruff_in(app, "check", "--no-cache", ".")
    formatting = ruff_in(app, "format", "--check", "--no-cache", ".")

    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
    assert "# noqa: E501" in (app / "origin/settings.py").read_text()


def test_the_lean_app_passes_its_linter_and_the_example_tests(lean: Path) -> None:
    lint = ruff_in(lean, "check", "--no-cache", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = ruff_in(lean, "format", "--check", "--no-cache", ".")
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
    tests = python_in(
        lean,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *FAST_TESTS,
        "tests/origin/test_example.py",
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]


def test_the_lean_app_serves_the_example_route_from_its_origin_app(lean: Path) -> None:
    probe = (
        "from origin.app import create_app\n"
        "from origin.settings import Settings\n"
        "app = create_app(Settings.from_mapping({'OUTPOST_DATA_DIR': 'data'}))\n"
        "print(sorted(getattr(route, 'path', '') for route in app.routes))\n"
    ).replace("OUTPOST_", "LEAN_APP_")
    result = python_in(lean, "-c", probe)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'/api/hello'" in result.stdout
    assert "/api/products" not in result.stdout


# A template mark as the renderer reads one: after "#" or inside an HTML comment, anywhere in a
# line. Code that speaks about marks (the renderer's own patterns) does not match it.
TEMPLATE_MARK = re.compile(r"(?:#|<!--)\s*template:[a-z]")


@pytest.mark.parametrize("variant", ["shop", "lean"])
def test_no_template_mark_survives_in_any_file_of_either_app(
    variant: str, request: pytest.FixtureRequest
) -> None:
    app: Path = request.getfixturevalue(variant)
    survivors = {}
    for path in tracked(app):
        text = (app / path).read_bytes().decode("utf-8", errors="ignore")
        lines = [line for line in text.splitlines() if TEMPLATE_MARK.search(line)]
        if lines:
            survivors[path] = lines
    assert survivors == {}


# What only the demo shop has: an app without it must not send its reader looking for these.
DEMO_ONLY_TEXT = (
    "origin/demo/",
    "db seed",
    "demo catalog",
    "/api/products",
    "/api/orders",
    "loadtest/catalog.py",
    "loadtest/soak/",
    "Placing an order",
    "bin/lean-app soak",
)


def app_docs(app: Path) -> dict[str, str]:
    """The README and docs an app's reader meets; docs/new-app.md is about the template itself
    (what ``--no-demo`` leaves out), not about the app."""
    paths = ["README.md", *sorted(str(path.relative_to(app)) for path in app.glob("docs/*.md"))]
    return {path: (app / path).read_text(encoding="utf-8") for path in paths}


def test_the_lean_app_s_readme_and_docs_describe_an_app_without_the_demo(lean: Path) -> None:
    mentions = {
        path: [phrase for phrase in DEMO_ONLY_TEXT if phrase in text]
        for path, text in app_docs(lean).items()
        if path != "docs/new-app.md"
    }
    assert {path: found for path, found in mentions.items() if found} == {}
    readme = (lean / "README.md").read_text(encoding="utf-8")
    assert "curl -i 'http://127.0.0.1:8787/api/hello?name=alice'" in readme
    assert "| `origin/example.py` | the app's first route, `GET /api/hello`" in readme
    assert "| `.venv/bin/lean-app dev` | migrate, serve the origin" in readme
    # The load test stays: every app can measure its edge on its own route.
    assert "| `.venv/bin/lean-app bench [--out DIR]" in readme


def test_the_shop_s_readme_describes_the_shop_and_its_own_command(shop: Path) -> None:
    readme = (shop / "README.md").read_text(encoding="utf-8")
    assert "| `.venv/bin/my-shop db seed` | load the demo catalog (idempotent) |" in readme
    assert "### Placing an order" in readme
    assert "$(.venv/bin/my-shop token --sub alice)" in readme
    assert "/api/hello" not in readme
    # Commands as typed, not as the program names itself in its own messages ("my-shop: ...").
    typed = re.compile(r"(?<![\w/.-])my-shop (dev|db|token|update|new)\b")
    for path, text in app_docs(shop).items():
        lines = [line for line in text.splitlines() if not re.match(r"my-shop( origin)?: ", line)]
        assert [line for line in lines if typed.search(line)] == [], path
