"""``update``: the template's later changes merged into an app that has changes of its own."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from commands import main
from templating.errors import TemplateError
from templating.generate import create_app
from templating.merge import Conflict
from templating.updating import update_app
from tests.templating.repos import IDENTITY, commit, git, status

SETTINGS = (
    'ENV_PREFIX = "OUTPOST_"\nREDIS_PREFIX = "outpost:"\n'
    'LOGGER = "outpost.origin"\nMETRIC = "outpost_cache_requests_total"\n'
)


@pytest.fixture
def app(template: Path, apps: Path) -> Path:
    """A generated app with a commit of its own on top of the generated one."""
    root = create_app(apps / "shop", "my-shop", source=str(template)).path
    settings = (root / "origin/settings.py").read_text()
    commit(
        root,
        {
            "origin/settings.py": settings.replace('"my-shop:"', '"shop-cache:"'),
            "origin/shop.py": "# the app's own code\n",
        },
        "app work",
    )
    return root


def git_check(app: Path) -> str:
    """``git diff --check``: what git says of the markers left in the working tree."""
    completed = subprocess.run(
        ["git", "diff", "--check"],  # noqa: S607
        cwd=app,
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout


def recorded_commit(app: Path) -> str:
    return str(json.loads((app / ".outpost-template.json").read_text())["template"]["commit"])


def test_template_changes_come_in_and_the_apps_changes_stay(template: Path, app: Path) -> None:
    new_commit = commit(
        template,
        {
            "origin/settings.py": SETTINGS + "OUTPOST_TIMEOUT = 5\n",
            "docs/new.md": "outpost docs\n",
            "README.md": (template / "README.md").read_text() + "\nMore outpost.\n",
        },
        "template work",
        delete=("shared/assertion.py", "shared/policies/routes.json"),
    )
    result = update_app(app)
    assert (result.new_commit, result.conflicts) == (new_commit, [])
    settings = (app / "origin/settings.py").read_text()
    assert 'REDIS_PREFIX = "shop-cache:"' in settings  # the app's edit
    assert settings.endswith("MY_SHOP_TIMEOUT = 5\n")  # the template's, renamed
    assert (app / "docs/new.md").read_text() == "my-shop docs\n"
    assert (app / "README.md").read_text().endswith("\nMore my-shop.\n")
    assert not (app / "shared").exists()  # deleted files, and their emptied directories
    assert (app / "origin/shop.py").read_text() == "# the app's own code\n"
    assert sorted(result.changed) == [
        "README.md",
        "docs/new.md",
        "origin/settings.py",
        "shared/assertion.py",
        "shared/policies/routes.json",
    ]


def test_the_update_is_left_uncommitted_with_the_record_moved_on(template: Path, app: Path) -> None:
    before = git(app, "rev-parse", "HEAD")
    new_commit = commit(template, {"docs/new.md": "x\n"}, "template work")
    update_app(app)
    assert git(app, "rev-parse", "HEAD") == before
    assert sorted(status(app)) == [" M .outpost-template.json", "?? docs/"]
    assert recorded_commit(app) == new_commit


def test_overlapping_edits_are_left_as_conflict_markers_and_listed(
    template: Path, app: Path
) -> None:
    commit(
        template,
        {
            "origin/settings.py": SETTINGS.replace('"outpost:"', '"outpost-cache:"'),
            "docs/new.md": "clean\n",
        },
        "template work",
    )
    result = update_app(app)
    assert result.conflicts == [Conflict("origin/settings.py", "conflicting changes (markers)")]
    settings = (app / "origin/settings.py").read_text()
    assert '<<<<<<< app\nREDIS_PREFIX = "shop-cache:"\n=======\n' in settings
    assert 'REDIS_PREFIX = "my-shop-cache:"\n>>>>>>> template ' in settings
    assert (app / "docs/new.md").read_text() == "clean\n"  # the rest still came in


def test_a_file_left_with_markers_is_unmerged_so_git_refuses_to_commit_it(
    template: Path, app: Path
) -> None:
    commit(
        template,
        {"origin/settings.py": SETTINGS.replace('"outpost:"', '"outpost-cache:"')},
        "template work",
    )
    app_version = (app / "origin/settings.py").read_text()
    update_app(app)
    assert "UU origin/settings.py" in git(app, "status", "--porcelain").splitlines()
    stages = git(app, "ls-files", "--unmerged", "--", "origin/settings.py").splitlines()
    assert [line.split()[2] for line in stages] == ["1", "2", "3"]
    assert git(app, "show", ":2:origin/settings.py") == app_version.rstrip("\n")
    assert 'REDIS_PREFIX = "my-shop-cache:"' in git(app, "show", ":3:origin/settings.py")
    assert 'REDIS_PREFIX = "my-shop:"' in git(app, "show", ":1:origin/settings.py")
    # As after a conflicted `git merge`: `git commit` refuses until the file is resolved.
    refused = subprocess.run(  # noqa: S603 (a list of arguments, no shell)
        ["git", *IDENTITY, "commit", "-m", "markers"],  # noqa: S607
        cwd=app,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "unmerged files" in refused.stdout + refused.stderr
    assert "leftover conflict marker" in git_check(app)
    # Resolved with git's own tools (the template's side here), added, it commits.
    git(app, "checkout", "--theirs", "origin/settings.py")
    assert 'REDIS_PREFIX = "my-shop-cache:"' in (app / "origin/settings.py").read_text()
    git(app, "add", "origin/settings.py")
    assert "UU" not in git(app, "status", "--porcelain")
    git(app, "commit", "--quiet", "-m", "update from the template")


def test_edit_against_delete_keeps_the_apps_file_and_lists_it(template: Path, app: Path) -> None:
    commit(template, {}, "drop settings", delete=("origin/settings.py",))
    result = update_app(app)
    assert result.conflicts == [
        Conflict("origin/settings.py", "deleted by the template, changed in the app")
    ]
    assert 'REDIS_PREFIX = "shop-cache:"' in (app / "origin/settings.py").read_text()
    # git's own state for it: "deleted by them", base and ours staged, theirs absent
    assert "UD origin/settings.py" in git(app, "status", "--porcelain").splitlines()


def test_a_file_the_app_deleted_and_the_template_changed_is_left_deleted_by_us(
    template: Path, app: Path
) -> None:
    commit(app, {}, "the app drops its wrangler.toml", delete=("wrangler.toml",))
    commit(template, {"wrangler.toml": 'name = "outpost"\nmain = "edge/app.py"\n'}, "move main")
    result = update_app(app)
    assert result.conflicts == [
        Conflict("wrangler.toml", "changed by the template, deleted in the app")
    ]
    assert not (app / "wrangler.toml").exists()
    assert "DU wrangler.toml" in git(app, "status", "--porcelain").splitlines()
    assert 'main = "edge/app.py"' in git(app, "show", ":3:wrangler.toml")


def test_the_answers_are_reapplied_so_demo_changes_skip_a_lean_app(
    template: Path, apps: Path
) -> None:
    lean = create_app(apps / "lean", "lean-app", source=str(template), demo=False).path
    commit(
        template, {"origin/demo/routes.py": 'ROUTES = ["products", "orders", "carts"]\n'}, "demo"
    )
    result = update_app(lean)
    assert (result.changed, result.conflicts) == ([], [])
    assert not (lean / "origin/demo").exists()


def test_a_dirty_working_tree_is_refused_and_left_as_it_was(template: Path, app: Path) -> None:
    commit(template, {"docs/new.md": "x\n"}, "template work")
    (app / "origin/shop.py").write_text("# unsaved work\n")
    with pytest.raises(TemplateError, match="uncommitted changes"):
        update_app(app)
    assert status(app) == [" M origin/shop.py"]
    assert not (app / "docs/new.md").exists()


def test_an_untracked_file_also_counts_as_dirty(template: Path, app: Path) -> None:
    (app / "notes.txt").write_text("draft\n")
    with pytest.raises(TemplateError, match=r"\?\? notes.txt"):
        update_app(app)


def test_an_app_at_the_template_commit_is_up_to_date(template: Path, app: Path) -> None:
    result = update_app(app)
    assert result.up_to_date
    assert status(app) == []


def test_ref_picks_the_template_commit_to_update_to(template: Path, app: Path) -> None:
    wanted = commit(template, {"docs/one.md": "1\n"}, "one")
    commit(template, {"docs/two.md": "2\n"}, "two")
    update_app(app, ref=wanted)
    assert (app / "docs/one.md").exists()
    assert not (app / "docs/two.md").exists()
    assert recorded_commit(app) == wanted


def test_update_works_from_a_subdirectory_of_the_app(template: Path, app: Path) -> None:
    commit(template, {"docs/new.md": "x\n"}, "template work")
    update_app(app / "origin")
    assert (app / "docs/new.md").exists()


def test_a_repository_without_a_record_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "--quiet")
    with pytest.raises(TemplateError, match=r"no \.outpost-template\.json"):
        update_app(plain)


def test_the_command_lists_conflicts_and_exits_3(
    template: Path, app: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    commit(
        template,
        {"origin/settings.py": SETTINGS.replace('"outpost:"', '"x:"')},
        "template work",
    )
    monkeypatch.chdir(app)
    assert main(["update"]) == 3
    out = capsys.readouterr().out
    assert "1 conflict(s) to resolve, left unmerged" in out
    assert "\n  origin/settings.py: conflicting changes (markers)\n" in out


def test_the_command_says_when_there_is_nothing_to_do(
    app: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(app)
    assert main(["update"]) == 0
    assert capsys.readouterr().out.startswith("already at template ")


def test_the_command_explains_a_dirty_tree_without_a_traceback(
    app: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (app / "origin/shop.py").write_text("# unsaved\n")
    monkeypatch.chdir(app)
    assert main(["update"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("update: the working tree has uncommitted changes")
    assert "Traceback" not in err


def test_lines_tidied_after_the_rename_merge_cleanly_with_later_template_changes(
    template: Path, apps: Path
) -> None:
    # With ruff settings, `new` wraps a line the longer name pushed past the limit; `update`
    # must compare the app with renders tidied the same way, or the wrap looks like an edit.
    call = 'COMMAND = dict(program="outpost", verb="upgrade")\n'
    pyproject = (template / "pyproject.toml").read_text() + "\n[tool.ruff]\nline-length = 60\n"
    commit(template, {"pyproject.toml": pyproject, "origin/command.py": call}, "ruff settings")
    root = create_app(apps / "long", "a-much-longer-app-name", source=str(template)).path
    wrapped = (root / "origin/command.py").read_text()
    assert wrapped.count("\n") > 1  # the formatter split the renamed line

    commit(template, {"origin/command.py": call + "TIMEOUT = 5\n"}, "template work")
    result = update_app(root)

    assert result.conflicts == []
    assert (root / "origin/command.py").read_text() == wrapped + "TIMEOUT = 5\n"
