"""``new``: a new app from a (throwaway, real git) template repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands import main
from templating.errors import TemplateError
from templating.generate import create_app
from templating.rules import leftover_slugs
from tests.templating.repos import commit, git, status, write_files


def app_files(root: Path) -> dict[str, str]:
    """Tracked files of a generated app, as text where they are text."""
    tracked = git(root, "ls-files").splitlines()
    return {path: (root / path).read_bytes().decode("utf-8", "replace") for path in tracked}


def dotenv(root: Path) -> dict[str, str]:
    lines = (root / ".env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_every_identity_is_renamed(template: Path, apps: Path) -> None:
    app = create_app(apps / "shop", "my-shop", source=str(template)).path
    files = app_files(app)
    assert 'name = "my-shop"' in files["pyproject.toml"]
    assert 'my-shop = "commands:main"' in files["pyproject.toml"]
    assert files["wrangler.toml"].startswith('name = "my-shop"\n')
    assert files["compose.yaml"].startswith("name: my-shop\n")
    assert "image: my-shop-origin:latest" in files["compose.yaml"]
    assert files["origin/settings.py"] == (
        'ENV_PREFIX = "MY_SHOP_"\nREDIS_PREFIX = "my-shop:"\n'
        'LOGGER = "my-shop.origin"\nMETRIC = "my_shop_cache_requests_total"\n'
    )
    assert files["shared/assertion.py"] == 'HEADER = "X-My-Shop-Assertion"\n'
    assert files["README.md"].startswith(
        "# my-shop\n\nRun `my-shop dev`; settings carry the `MY_SHOP_`"
    )


def test_no_slug_is_left_outside_the_allowed_places(template: Path, apps: Path) -> None:
    app = create_app(apps / "shop", "my-shop", source=str(template)).path
    left = {path: leftover_slugs(text) for path, text in app_files(app).items()}
    assert {path for path, found in left.items() if found} == {
        "templating/rules.py",  # the machinery names its template
        "tests/data/issuer.txt",  # frozen test data
        "assets/logo.bin",  # binary
    }


def test_template_only_text_and_files_stay_behind(template: Path, apps: Path) -> None:
    app = create_app(apps / "shop", "my-shop", source=str(template)).path
    files = app_files(app)
    assert "Start a new app" not in files["README.md"]
    assert not any(path.startswith("tests/templating/") for path in files)


def test_the_demo_is_kept_by_default_and_wired(template: Path, apps: Path) -> None:
    app = create_app(apps / "shop", "my-shop", source=str(template)).path
    assert routes_of(app) == ["health", "products", "orders"]
    assert not (app / "origin/example.py").exists()


def test_no_demo_leaves_the_example_route_wired_in_its_place(template: Path, apps: Path) -> None:
    app = create_app(apps / "lean", "lean-app", source=str(template), demo=False).path
    assert routes_of(app) == ["health", "hello"]
    assert not (app / "origin/demo").exists()
    assert "origin/demo/" not in (app / "README.md").read_text()
    routes = json.loads((app / "shared/policies/routes.json").read_text())["routes"]
    assert [route["prefix"] for route in routes] == ["/healthz"]


def routes_of(app: Path) -> list[str]:
    """Import the generated app's own code in a fresh interpreter."""
    completed = subprocess.run(
        [sys.executable, "-c", "from origin.app import ROUTES; print(','.join(ROUTES))"],
        cwd=app,
        env={**os.environ, "PYTHONPATH": str(app)},
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip().split(",")


def test_the_app_is_one_commit_with_a_record_and_nothing_uncommitted(
    template: Path, apps: Path
) -> None:
    template_commit = git(template, "rev-parse", "HEAD")
    app = create_app(apps / "shop", "my-shop", source=str(template), demo=False).path
    assert git(app, "rev-list", "--count", "HEAD") == "1"
    assert status(app) == []
    record = json.loads((app / ".outpost-template.json").read_text())
    assert record == {
        "version": 1,
        "template": {"source": str(template.resolve()), "commit": template_commit},
        "answers": {"name": "my-shop", "demo": False},
    }
    assert (app / "scripts/dev").stat().st_mode & 0o111


def test_secrets_are_fresh_per_app_ignored_by_git_and_private(template: Path, apps: Path) -> None:
    first = create_app(apps / "one", "shop-one", source=str(template)).path
    second = create_app(apps / "two", "shop-two", source=str(template)).path
    assert dotenv(first)["EDGE_ASSERTION_SECRET"] != dotenv(second)["EDGE_ASSERTION_SECRET"]
    assert dotenv(first)["SHOP_ONE_EDGE_SECRETS"] == "dev:" + dotenv(first)["EDGE_ASSERTION_SECRET"]
    assert ".env" not in git(first, "ls-files").splitlines()
    assert (first / ".env").stat().st_mode & 0o777 == 0o600


def test_the_template_is_taken_at_its_commit_not_its_working_tree(
    template: Path, apps: Path
) -> None:
    write_files(template, {"origin/settings.py": "UNCOMMITTED = True\n", "stray.txt": "x"})
    (template / ".env").write_text("OUTPOST_SECRET=template-secret\n")
    app = create_app(apps / "shop", "my-shop", source=str(template)).path
    assert "UNCOMMITTED" not in (app / "origin/settings.py").read_text()
    assert not (app / "stray.txt").exists()
    assert "template-secret" not in (app / ".env").read_text()


def test_ref_selects_an_older_template_commit(template: Path, apps: Path) -> None:
    first = git(template, "rev-parse", "HEAD")
    commit(template, {"NEW.md": "later\n"}, "later")
    app = create_app(apps / "shop", "my-shop", source=str(template), ref=first).path
    assert not (app / "NEW.md").exists()
    assert json.loads((app / ".outpost-template.json").read_text())["template"]["commit"] == first


def test_an_unknown_ref_is_refused(template: Path, apps: Path) -> None:
    with pytest.raises(TemplateError, match="not a commit"):
        create_app(apps / "shop", "my-shop", source=str(template), ref="no-such-branch")
    assert list(apps.iterdir()) == []


def test_an_existing_empty_directory_is_used(template: Path, apps: Path) -> None:
    (apps / "shop").mkdir()
    app = create_app(apps / "shop", "my-shop", source=str(template)).path
    assert (app / "pyproject.toml").is_file()


@pytest.mark.parametrize("occupied", ["file", "non-empty dir"])
def test_an_occupied_path_is_refused_and_left_untouched(
    template: Path, apps: Path, occupied: str
) -> None:
    target = apps / "shop"
    if occupied == "file":
        target.write_text("mine")
    else:
        target.mkdir()
        (target / "mine.txt").write_text("mine")
    with pytest.raises(TemplateError, match="not an empty directory"):
        create_app(target, "my-shop", source=str(template))
    assert sorted(path.name for path in apps.iterdir()) == ["shop"]


def test_a_name_the_template_depends_on_is_refused(template: Path, apps: Path) -> None:
    with pytest.raises(TemplateError, match="taken"):
        create_app(apps / "shop", "py-jwt", source=str(template))
    assert list(apps.iterdir()) == []


def test_a_failure_midway_leaves_nothing_behind(template: Path, apps: Path) -> None:
    commit(template, {".gitignore": "__pycache__/\n"}, "forget to ignore .env")
    with pytest.raises(TemplateError, match=r"does not exclude \.env"):
        create_app(apps / "shop", "my-shop", source=str(template))
    assert list(apps.iterdir()) == []


def test_a_template_that_is_not_a_repository_is_refused(tmp_path: Path, apps: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(TemplateError, match="rev-parse failed"):
        create_app(apps / "shop", "my-shop", source=str(tmp_path / "plain"))


def test_a_template_url_is_cloned(template: Path, apps: Path) -> None:
    app = create_app(apps / "shop", "my-shop", source=template.resolve().as_uri()).path
    assert (app / "origin/app.py").is_file()
    record = json.loads((app / ".outpost-template.json").read_text())
    assert record["template"]["source"] == template.resolve().as_uri()


def test_the_command_reports_success_and_the_next_step(
    template: Path, apps: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["new", str(apps / "shop"), "--name", "my-shop", "--template", str(template)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"created my-shop in {apps / 'shop'}" in out
    assert "./scripts/dev" in out


def test_the_command_explains_a_bad_name_without_a_traceback(
    template: Path, apps: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["new", str(apps / "shop"), "--name", "My_Shop", "--template", str(template)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("new: invalid app name 'My_Shop'")
    assert "Traceback" not in err
    assert list(apps.iterdir()) == []


def test_the_command_requires_a_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["new", "somewhere"])
    assert exit_info.value.code == 2
    assert "--name" in capsys.readouterr().err
