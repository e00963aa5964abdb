"""The load test's verbs of the ``outpost`` command: ``bench`` and ``soak``."""

from __future__ import annotations

from typing import Any

from loadtest.cli import (
    bench,
    soak,  # template:demo
)
from shared.cli.failures import CommandFailed


def register(verbs: Any) -> None:
    bench.register(verbs)
    soak.register(verbs)  # template:demo


def known_failure(error: BaseException) -> CommandFailed | None:
    """None: bench and soak report what stops them themselves (exit status 2)."""
    return None
