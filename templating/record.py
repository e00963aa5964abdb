"""The record a generated app keeps of its template: where from, which commit, which answers.

It is ``.outpost-template.json`` at the app's root, committed with the app: ``update`` reads it
to re-render the same answers at the recorded commit (the merge base) and at the new one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from templating.errors import TemplateError
from templating.names import AppName, is_well_formed
from templating.tree import Answers

RECORD_FILE = ".outpost-template.json"
RECORD_VERSION = 1
_COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256


@dataclass(frozen=True)
class TemplateRecord:
    source: str  # a local git directory (absolute) or a URL git can clone
    commit: str
    answers: Answers

    def at(self, commit: str) -> TemplateRecord:
        return replace(self, commit=commit)

    def to_json(self) -> str:
        document = {
            "version": RECORD_VERSION,
            "template": {"source": self.source, "commit": self.commit},
            "answers": {"name": self.answers.name.slug, "demo": self.answers.demo},
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> TemplateRecord:
        """Parse a record, or say what is wrong with it (hand edits happen)."""
        try:
            document = json.loads(text)
            template, answers = document["template"], document["answers"]
            version, source, commit = document["version"], template["source"], template["commit"]
            name, demo = answers["name"], answers["demo"]
        except (ValueError, TypeError, KeyError) as error:
            raise TemplateError(f"{RECORD_FILE} is not a valid record: {error!r}") from None
        if version != RECORD_VERSION:
            raise TemplateError(f"{RECORD_FILE} has version {version!r}; expected {RECORD_VERSION}")
        if not isinstance(source, str) or not source:
            raise TemplateError(f"{RECORD_FILE}: template.source must be a non-empty string")
        if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
            raise TemplateError(f"{RECORD_FILE}: template.commit must be a full commit id")
        if not isinstance(name, str) or not is_well_formed(name) or not isinstance(demo, bool):
            raise TemplateError(f"{RECORD_FILE}: answers need a valid name and demo (true/false)")
        # Only the form is re-checked: the name was available when the app was generated.
        return cls(source, commit, Answers(AppName(name), demo))
