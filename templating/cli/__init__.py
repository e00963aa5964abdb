"""The template tooling's verbs of the ``outpost`` command: ``new`` and ``update``."""

from __future__ import annotations

from typing import Any

from shared.cli.failures import CommandFailed
from templating.cli import new, update


def register(verbs: Any) -> None:
    new.register(verbs)
    update.register(verbs)


def known_failure(error: BaseException) -> CommandFailed | None:
    """None: new and update report a TemplateError themselves."""
    return None
