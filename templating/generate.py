"""``new``: a new app from the template at one commit, built aside and moved into place whole."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from templating import git
from templating.dev_env import development_env
from templating.errors import TemplateError
from templating.names import dependency_names, parse_app_name
from templating.record import RECORD_FILE, TemplateRecord
from templating.tidy import tidy
from templating.tree import Answers, TreeFile, render

DOTENV = ".env"


@dataclass(frozen=True)
class NewApp:
    path: Path
    record: TemplateRecord
    files: int


def create_app(
    path: Path,
    name: str,
    *,
    source: str,
    ref: str = "HEAD",
    demo: bool = True,
    new_secret: Callable[[int], str] = secrets.token_urlsafe,
) -> NewApp:
    """Render the template ``source`` at ``ref`` as the app ``name`` in ``path``.

    ``path`` must not exist or be an empty directory; on any failure nothing is left there.
    """
    path = path.absolute()
    _check_destination(path)
    with git.template_repository(source) as repository:
        commit = git.resolve_commit(repository, ref)
        template = git.read_commit(repository, commit)
    taken = dependency_names(_text(template.get("pyproject.toml")))
    answers = Answers(parse_app_name(name, taken=taken), demo)
    record = TemplateRecord(_recorded_source(source), commit, answers)
    app = tidy(render(template, answers))
    app[RECORD_FILE] = TreeFile(record.to_json().encode())

    staging = Path(tempfile.mkdtemp(prefix=f".{answers.name.slug}-", dir=path.parent))
    try:
        git.write_tree(staging, app)
        _write_dotenv(staging, development_env(answers.name, new_secret))
        git.init(staging)
        if not git.is_ignored(staging, DOTENV):
            raise TemplateError(f"the template's .gitignore does not exclude {DOTENV}")
        git.commit_all(staging, f"New app {answers.name.slug} from template {commit[:12]}")
        if path.exists():
            path.rmdir()  # empty, checked above
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return NewApp(path, record, len(app))


def _check_destination(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise TemplateError(f"{path} exists and is not an empty directory")
    if not path.parent.is_dir():
        raise TemplateError(f"{path.parent} does not exist; create it first")


def _write_dotenv(root: Path, text: str) -> None:
    dotenv = root / DOTENV
    dotenv.write_text(text, encoding="utf-8")
    dotenv.chmod(0o600)  # secrets: readable by the owner only


def _recorded_source(source: str) -> str:
    """Local templates are recorded by absolute path, so ``update`` works from anywhere."""
    local = Path(source)
    return str(local.resolve()) if local.is_dir() else source


def _text(file: TreeFile | None) -> str:
    return (file.text() or "") if file is not None else ""
