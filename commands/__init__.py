"""The ``outpost`` command: one console script, the verbs of every package that is installed.

Each package registers its own verbs (``origin.cli``, ``edge.cli``, ``loadtest.cli``,
``templating.cli``); ``dev``, which runs the origin and the edge together, is this package's own
(:mod:`commands.dev`). A package that is not installed (the production image holds ``shared``,
``origin`` and this package only) simply has no verbs here. Heavy imports happen inside the
verbs' handlers, so ``outpost --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from collections.abc import Callable, Sequence

from shared.cli.command import VerbSet, run
from shared.cli.command import build_parser as build_command_parser

PROG = "outpost"
DESCRIPTION = "Run, manage and measure the outpost app (edge + origin)."

# Each verb set, and the top-level packages it needs, in the order of `outpost --help`.
VERB_SETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("commands.dev", ("origin", "edge")),
    ("origin.cli", ("origin",)),
    ("edge.cli", ("edge",)),
    ("templating.cli", ("templating",)),
    ("loadtest.cli", ("loadtest",)),
)


def is_installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def installed_verb_sets(
    installed: Callable[[str], bool] = is_installed,
) -> list[VerbSet]:
    """The verb sets whose packages are all installed."""
    return [
        importlib.import_module(module)
        for module, packages in VERB_SETS
        if all(installed(package) for package in packages)
    ]


def build_parser(verb_sets: Sequence[VerbSet] | None = None) -> argparse.ArgumentParser:
    chosen = installed_verb_sets() if verb_sets is None else verb_sets
    return build_command_parser(PROG, DESCRIPTION, chosen)


def main(argv: Sequence[str] | None = None) -> int:
    verb_sets = installed_verb_sets()
    return run(build_command_parser(PROG, DESCRIPTION, verb_sets), verb_sets, argv)
