"""Planning an update: each file's fate from its base, template and app versions."""

from __future__ import annotations

from templating.merge import Conflict, Delete, Merge, Write, plan_update
from templating.tree import TreeFile

OLD = TreeFile(b"old\n")
NEW = TreeFile(b"new\n")
MINE = TreeFile(b"mine\n")
BINARY = TreeFile(b"\0bin")


def test_files_the_template_did_not_change_are_left_alone() -> None:
    plan = plan_update({"a": OLD, "b": OLD}, {"a": OLD, "b": OLD}, {"a": MINE})
    assert (plan.actions, plan.conflicts) == ([], [])


def test_a_template_change_to_a_file_the_app_kept_is_taken() -> None:
    assert plan_update({"a": OLD}, {"a": NEW}, {"a": OLD}).actions == [Write("a", NEW)]


def test_a_change_the_app_already_has_needs_nothing() -> None:
    assert plan_update({"a": OLD}, {"a": NEW}, {"a": NEW}).actions == []


def test_a_file_the_template_adds_is_added() -> None:
    assert plan_update({}, {"new.py": NEW}, {}).actions == [Write("new.py", NEW)]


def test_a_file_the_template_deletes_is_deleted_if_the_app_kept_it_as_is() -> None:
    assert plan_update({"a": OLD}, {}, {"a": OLD}).actions == [Delete("a")]


def test_a_file_the_app_deleted_and_the_template_deleted_is_nothing() -> None:
    plan = plan_update({"a": OLD}, {}, {})
    assert (plan.actions, plan.conflicts) == ([], [])


def test_changes_on_both_sides_are_merged_line_by_line() -> None:
    assert plan_update({"a": OLD}, {"a": NEW}, {"a": MINE}).actions == [
        Merge("a", OLD, NEW, executable=False)
    ]


def test_both_sides_adding_a_file_merge_over_an_empty_base() -> None:
    assert plan_update({}, {"a": NEW}, {"a": MINE}).actions == [Merge("a", None, NEW, False)]


def test_the_template_changing_the_executable_bit_wins_otherwise_the_apps_stays() -> None:
    executable_new = TreeFile(NEW.content, executable=True)
    assert plan_update({"a": OLD}, {"a": executable_new}, {"a": MINE}).actions == [
        Merge("a", OLD, executable_new, executable=True)
    ]
    executable_mine = TreeFile(MINE.content, executable=True)
    assert plan_update({"a": OLD}, {"a": NEW}, {"a": executable_mine}).actions == [
        Merge("a", OLD, NEW, executable=True)
    ]


def test_edit_against_delete_is_a_conflict_that_keeps_the_apps_side() -> None:
    deleted_by_template = plan_update({"a": OLD}, {}, {"a": MINE})
    assert deleted_by_template.conflicts == [
        Conflict("a", "deleted by the template, changed in the app")
    ]
    deleted_by_app = plan_update({"a": OLD}, {"a": NEW}, {})
    assert deleted_by_app.conflicts == [
        Conflict("a", "changed by the template, deleted in the app")
    ]
    assert deleted_by_template.actions == deleted_by_app.actions == []


def test_binary_files_changed_on_both_sides_are_a_conflict() -> None:
    plan = plan_update({"a": OLD}, {"a": BINARY}, {"a": MINE})
    assert plan.conflicts == [Conflict("a", "binary file changed on both sides")]
    assert plan.actions == []


def test_the_plan_is_in_path_order() -> None:
    plan = plan_update({}, {"b": NEW, "a": NEW, "c/d": NEW}, {})
    assert [action.path for action in plan.actions] == ["a", "b", "c/d"]
