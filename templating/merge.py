"""Planning ``update``: what each file of the app becomes, from three versions of it.

``base`` is the template at the recorded commit rendered with the app's answers, ``theirs`` the
template at the new commit rendered the same way, ``ours`` the app as committed now. As in
``git merge``: a side that did not change a file takes the other side's version; when both
changed it, the lines are merged (:class:`Merge`, done by ``git merge-file``) and overlapping
edits become conflict markers. The decisions are pure; :mod:`templating.updating` acts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from templating.tree import TreeFile


@dataclass(frozen=True)
class Write:
    path: str
    file: TreeFile


@dataclass(frozen=True)
class Delete:
    path: str


@dataclass(frozen=True)
class Merge:
    """Both sides changed a text file: merge ``ours`` with ``theirs`` over ``base``."""

    path: str
    base: TreeFile | None  # None: both sides added the file
    theirs: TreeFile
    executable: bool


@dataclass(frozen=True)
class Conflict:
    """A change that cannot be merged line by line: the app's version stays, the user decides.

    The three versions (None: absent on that side) become the file's unmerged index entries,
    as ``git merge`` leaves them, so that git itself refuses to commit the file unresolved.
    """

    path: str
    reason: str
    base: TreeFile | None = field(default=None, compare=False, repr=False)
    ours: TreeFile | None = field(default=None, compare=False, repr=False)
    theirs: TreeFile | None = field(default=None, compare=False, repr=False)


Action = Write | Delete | Merge


@dataclass
class UpdatePlan:
    actions: list[Action] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def plan_update(
    base: Mapping[str, TreeFile], theirs: Mapping[str, TreeFile], ours: Mapping[str, TreeFile]
) -> UpdatePlan:
    plan = UpdatePlan()
    for path in sorted(set(base) | set(theirs)):
        _plan_file(plan, path, base.get(path), theirs.get(path), ours.get(path))
    return plan


def _plan_file(
    plan: UpdatePlan,
    path: str,
    base: TreeFile | None,
    theirs: TreeFile | None,
    ours: TreeFile | None,
) -> None:
    if theirs in (base, ours):
        return  # the template did not change it, or the app already has the change
    if ours == base:
        plan.actions.append(Delete(path) if theirs is None else Write(path, theirs))
        return
    if theirs is not None and ours is not None and _all_text(base, theirs, ours):
        plan.actions.append(Merge(path, base, theirs, _merged_mode(base, theirs, ours)))
        return
    if theirs is None:
        reason = "deleted by the template, changed in the app"
    elif ours is None:
        reason = "changed by the template, deleted in the app"
    else:
        reason = "binary file changed on both sides"
    plan.conflicts.append(Conflict(path, reason, base, ours, theirs))


def _all_text(*files: TreeFile | None) -> bool:
    return all(file is None or file.text() is not None for file in files)


def _merged_mode(base: TreeFile | None, theirs: TreeFile, ours: TreeFile) -> bool:
    """The template's executable bit if it changed it, otherwise the app's."""
    template_changed_mode = base is None or base.executable != theirs.executable
    return theirs.executable if template_changed_mode else ours.executable
