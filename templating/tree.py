"""A file tree in memory, and the pure render: template tree + answers -> app tree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from templating import rules, variants
from templating.names import AppName


@dataclass(frozen=True)
class TreeFile:
    """A file's bytes and whether it is executable (the only mode bit git keeps)."""

    content: bytes
    executable: bool = False

    def text(self) -> str | None:
        """The content as UTF-8 text, or None for a binary file."""
        if b"\0" in self.content:
            return None
        try:
            return self.content.decode("utf-8")
        except UnicodeDecodeError:
            return None


Tree = Mapping[str, TreeFile]  # "dir/file.py" (POSIX, relative) -> file


@dataclass(frozen=True)
class Answers:
    """What a new app was generated with; re-rendering with the same answers gives the same app."""

    name: AppName
    demo: bool = True


def render(template: Tree, answers: Answers) -> dict[str, TreeFile]:
    """The app ``answers`` describe, made from the template's files.

    Overlay files are placed first so that they get the same renaming as everything else.
    """
    placed: dict[str, TreeFile] = {}
    for path, file in template.items():
        target = variants.overlay_target(path)
        if target is not None and not answers.demo:
            placed[target] = file
        placed.setdefault(path, file)
    app: dict[str, TreeFile] = {}
    for path, file in sorted(placed.items()):
        text = file.text()
        if not variants.keeps_file(path, text, demo=answers.demo):
            continue
        app[rules.rename_path(path, answers.name)] = _render_file(path, file, text, answers)
    return app


def _render_file(path: str, file: TreeFile, text: str | None, answers: Answers) -> TreeFile:
    if text is None:
        return file
    # Exempt files keep the template's name, not its marks: no mark survives in an app.
    rendered = variants.apply_markers(path, text, demo=answers.demo)
    if not rules.is_exempt(path):
        rendered = rules.rename_text(rendered, answers.name)
    return TreeFile(rendered.encode("utf-8"), file.executable)
