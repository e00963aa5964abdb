"""The ``outpost`` command: one console script, one verb per job.

Each verb lives in its own module and registers its parser here; heavy imports happen inside the
verb's handler, so ``outpost --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from origin.cli import (
    accounts,
    bench,
    database,
    edge,
    keys,
    new,
    purger,
    serve,
    soak,  # template:demo
    token,
    update,
)
from origin.cli.failures import USAGE_ERROR, known_failure

VERB_MODULES = (
    serve,
    database,
    keys,
    accounts,
    token,
    edge,
    purger,
    new,
    update,
    bench,
    soak,  # template:demo
)


class CommandParser(argparse.ArgumentParser):
    """argparse, with a usage error on one line that says where the usage is (each verb's
    parser is one of these too: subparsers take their parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="outpost",
        description="Run, manage and measure the outpost app (edge + origin).",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for module in VERB_MODULES:
        module.register(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        failure = known_failure(error)
        if failure is None:
            raise  # a bug: its traceback stays visible
        print(f"outpost: {failure}", file=sys.stderr)
        return failure.exit_status
    return result
