"""The git work of ``new`` and ``update``: read a commit's files, init, commit, merge one file.

Files are read with ``git archive`` so that only what a commit holds is used: uncommitted or
ignored files of the template (a ``.env``, a ``.venv``) can never leak into an app.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from templating.errors import TemplateError
from templating.tree import TreeFile

# A commit is needed even where the user never configured git (CI, containers).
_FALLBACK_IDENTITY = ("-c", "user.name=outpost new", "-c", "user.email=outpost-new@localhost")


def git(args: Sequence[str], *, cwd: Path, stdin: bytes | None = None) -> bytes:
    """Run git; its error output becomes a :class:`TemplateError`."""
    try:
        completed = subprocess.run(  # noqa: S603 (arguments are a list, no shell)
            ["git", *args],  # noqa: S607 (git from PATH, as the user runs it)
            cwd=cwd,
            input=stdin,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise TemplateError("git is not installed (or not on PATH)") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip()
        verb = next((arg for arg in args if not arg.startswith("-") and "=" not in arg), "")
        raise TemplateError(f"git {verb} failed: {detail}")
    return completed.stdout


@contextmanager
def template_repository(source: str) -> Iterator[Path]:
    """A git directory holding the template: ``source`` itself when it is a local repository,
    otherwise a temporary bare clone of it (removed afterwards)."""
    local = Path(source)
    if local.is_dir():
        git(["rev-parse", "--git-dir"], cwd=local)
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="template-") as scratch:
        clone = Path(scratch) / "template.git"
        git(["clone", "--quiet", "--bare", source, str(clone)], cwd=Path(scratch))
        yield clone


def resolve_commit(repository: Path, ref: str) -> str:
    """The full id of the commit ``ref`` names in ``repository``."""
    if ref.startswith("-"):
        raise TemplateError(f"invalid ref {ref!r}")
    try:
        found = git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repository)
    except TemplateError:
        raise TemplateError(f"{ref!r} is not a commit of the template at {repository}") from None
    return found.decode().strip()


def read_commit(repository: Path, commit: str) -> dict[str, TreeFile]:
    """Every file of ``commit``, by path."""
    archive = git(["archive", "--format=tar", commit], cwd=repository)
    files: dict[str, TreeFile] = {}
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isdir() or member.type == tarfile.XGLTYPE:
                continue
            if not member.isfile():
                raise TemplateError(f"{member.name}: only regular files are supported")
            content = tar.extractfile(member)
            assert content is not None  # a regular file always has content
            files[member.name] = TreeFile(content.read(), bool(member.mode & 0o100))
    return files


def write_tree(root: Path, files: Mapping[str, TreeFile]) -> None:
    for path, file in files.items():
        write_file(root, path, file)


def write_file(root: Path, path: str, file: TreeFile) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(file.content)
    target.chmod(0o755 if file.executable else 0o644)


def init(root: Path) -> None:
    git(["init", "--quiet", "--initial-branch=main"], cwd=root)


def commit_all(root: Path, message: str) -> str:
    """Commit everything in ``root`` that is not ignored; the new commit's id."""
    git(["add", "--all"], cwd=root)
    git([*_identity(root), "commit", "--quiet", "--no-verify", "-m", message], cwd=root)
    return git(["rev-parse", "HEAD"], cwd=root).decode().strip()


def is_ignored(root: Path, path: str) -> bool:
    try:
        git(["check-ignore", "--quiet", path], cwd=root)
    except TemplateError:
        return False
    return True


def uncommitted_changes(root: Path) -> list[str]:
    """``git status`` lines of changed, staged or untracked (not ignored) files."""
    return git(["status", "--porcelain"], cwd=root).decode().splitlines()


def top_level(directory: Path) -> Path:
    try:
        return Path(git(["rev-parse", "--show-toplevel"], cwd=directory).decode().strip())
    except TemplateError:
        raise TemplateError(f"{directory} is not inside a git repository") from None


def merge_file(
    ours: bytes, base: bytes, theirs: bytes, labels: tuple[str, str, str]
) -> tuple[bytes, int]:
    """``git merge-file``: the merged bytes and the number of conflicts marked in them."""
    with tempfile.TemporaryDirectory(prefix="merge-") as scratch:
        paths = []
        for role, content in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(scratch) / role
            path.write_bytes(content)
            paths.append(str(path))
        label_args = [arg for label in labels for arg in ("-L", label)]
        completed = subprocess.run(  # noqa: S603
            ["git", "merge-file", "--stdout", *label_args, *paths],  # noqa: S607
            capture_output=True,
            check=False,
        )
    # merge-file exits with the number of conflicts (0-127), or more on failure
    if completed.returncode > 127 or completed.returncode < 0:
        raise TemplateError(f"git merge-file failed: {completed.stderr.decode(errors='replace')}")
    return completed.stdout, completed.returncode


_NO_BLOB = "0" * 40
_STAGES = {"base": 1, "ours": 2, "theirs": 3}


def mark_unmerged(
    root: Path, path: str, *, base: TreeFile | None, ours: TreeFile | None, theirs: TreeFile | None
) -> None:
    """Leave ``path`` in the index as ``git merge`` leaves a conflict: stages 1, 2 and 3.

    ``git status`` then lists it as unmerged and ``git commit`` (``-a`` included) refuses to
    run until the user resolves it and ``git add``s (or ``git rm``s) it. A version that is
    None is absent on that side (e.g. "deleted by them").
    """
    lines = [f"0 {_NO_BLOB}\t{path}"]  # drop the stage-0 entry first, as git requires
    for role, file in (("base", base), ("ours", ours), ("theirs", theirs)):
        if file is not None:
            blob = git(["hash-object", "-w", "--stdin"], cwd=root, stdin=file.content)
            mode = "100755" if file.executable else "100644"
            lines.append(f"{mode} {blob.decode().strip()} {_STAGES[role]}\t{path}")
    git(
        ["update-index", "--index-info"],
        cwd=root,
        stdin="".join(f"{line}\n" for line in lines).encode(),
    )


def _identity(root: Path) -> tuple[str, ...]:
    try:
        git(["config", "user.email"], cwd=root)
    except TemplateError:
        return _FALLBACK_IDENTITY
    return ()
