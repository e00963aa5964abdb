"""One command made of the verbs of several packages: the parser, and running a verb.

Each package that has verbs offers a :class:`VerbSet` (its ``cli`` module): ``register`` adds its
verbs to the command, ``known_failure`` turns the errors it knows into one line. Heavy imports
stay inside the verbs' handlers, so that ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, Protocol

from shared.cli.failures import USAGE_ERROR, CommandFailed, known_failure

INTERRUPTED = 130  # the shell's status for Ctrl-C


class VerbSet(Protocol):
    """A package's verbs (a module with these two functions)."""

    def register(self, verbs: Any) -> None:
        """Add the verbs to ``verbs`` (argparse's subparsers), each with its ``handler``."""

    def known_failure(self, error: BaseException) -> CommandFailed | None:
        """The line for an error of this package a user can cause; None for the rest."""


class CommandParser(argparse.ArgumentParser):
    """argparse, with a usage error on one line that says where the usage is (each verb's
    parser is one of these too: subparsers take their parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser(prog: str, description: str, verb_sets: Sequence[VerbSet]) -> CommandParser:
    parser = CommandParser(prog=prog, description=description)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb_set in verb_sets:
        verb_set.register(verbs)
    return parser


def run(
    parser: argparse.ArgumentParser, verb_sets: Sequence[VerbSet], argv: Sequence[str] | None
) -> int:
    """Parse ``argv`` and run its verb: its exit status, or one line and a non-zero status for a
    failure one of ``verb_sets`` knows (an unknown error is a bug and keeps its traceback)."""
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as error:
        failure = known_failure(error, [verb_set.known_failure for verb_set in verb_sets])
        if failure is None:
            raise  # a bug: its traceback stays visible
        print(f"{parser.prog}: {failure}", file=sys.stderr)
        return failure.exit_status
    return result
