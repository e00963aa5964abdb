"""``update``: bring the template's changes since the recorded commit into an app.

The app's last commit is "ours", the template at the recorded commit rendered with the recorded
answers is the merge base, the template at the new commit rendered the same way is "theirs".
The result is left in the working tree, uncommitted, for the user to review and commit; each
conflict is left as git leaves one (unmerged index entries), so git refuses to commit it as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from templating import git
from templating.errors import TemplateError
from templating.merge import Conflict, Delete, Merge, Write, plan_update
from templating.record import RECORD_FILE, TemplateRecord
from templating.tidy import tidy
from templating.tree import TreeFile, render


@dataclass
class UpdateResult:
    old_commit: str
    new_commit: str
    changed: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return self.old_commit == self.new_commit


def update_app(directory: Path, *, ref: str = "HEAD", source: str | None = None) -> UpdateResult:
    """Merge the template at ``ref`` into the app containing ``directory``.

    ``source`` overrides the recorded template location (a moved or mirrored template).
    """
    root = git.top_level(directory)
    record = _read_record(root)
    dirty = git.uncommitted_changes(root)
    if dirty:
        raise TemplateError(
            "the working tree has uncommitted changes; commit or stash them first, so that "
            "the update can be reviewed (and undone) on its own:\n  " + "\n  ".join(dirty[:10])
        )
    with git.template_repository(source or record.source) as repository:
        new_commit = git.resolve_commit(repository, ref)
        result = UpdateResult(record.commit, new_commit)
        if result.up_to_date:
            return result
        base = tidy(render(git.read_commit(repository, record.commit), record.answers))
        theirs = tidy(render(git.read_commit(repository, new_commit), record.answers))
    ours = git.read_commit(root, "HEAD")
    ours.pop(RECORD_FILE, None)
    plan = plan_update(base, theirs, ours)
    labels = ("app", f"template {record.commit[:12]}", f"template {new_commit[:12]}")
    for action in plan.actions:
        if isinstance(action, Write):
            git.write_file(root, action.path, action.file)
        elif isinstance(action, Delete):
            _delete(root, action.path)
        elif _merge(root, action, ours[action.path], labels):
            result.conflicts.append(
                Conflict(
                    action.path,
                    "conflicting changes (markers)",
                    action.base,
                    ours[action.path],
                    action.theirs,
                )
            )
        result.changed.append(action.path)
    result.conflicts.extend(plan.conflicts)
    result.conflicts.sort(key=lambda conflict: conflict.path)
    for conflict in result.conflicts:
        git.mark_unmerged(
            root, conflict.path, base=conflict.base, ours=conflict.ours, theirs=conflict.theirs
        )
    (root / RECORD_FILE).write_text(record.at(new_commit).to_json(), encoding="utf-8")
    return result


def _read_record(root: Path) -> TemplateRecord:
    path = root / RECORD_FILE
    if not path.is_file():
        raise TemplateError(f"{root} has no {RECORD_FILE}: update works in apps made with `new`")
    return TemplateRecord.from_json(path.read_text(encoding="utf-8"))


def _merge(root: Path, action: Merge, ours: TreeFile, labels: tuple[str, str, str]) -> bool:
    """Merge one file in place; whether conflict markers were left in it."""
    base = action.base.content if action.base is not None else b""
    merged, conflicts = git.merge_file(ours.content, base, action.theirs.content, labels)
    git.write_file(root, action.path, TreeFile(merged, action.executable))
    return conflicts > 0


def _delete(root: Path, path: str) -> None:
    """Remove a file, and the directories that only it kept (git does not track them)."""
    (root / path).unlink()
    for parent in (root / path).parents:
        if parent == root or any(parent.iterdir()):
            break
        parent.rmdir()
