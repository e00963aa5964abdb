"""The ``outpost`` command: one console script, one verb per job.

Each verb lives in its own module and registers its parser here; heavy imports happen inside the
verb's handler, so ``outpost --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from origin.cli import (
    accounts,
    bench,  # template:demo
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
from origin.settings import SettingsError

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
    bench,  # template:demo
    soak,  # template:demo
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    except SettingsError as error:
        print(f"outpost: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        # Imported here: the database layer is heavy and --help must stay instant.
        from origin.db.migrate import DatabaseNotMigrated

        if not isinstance(error, DatabaseNotMigrated):
            raise
        print(f"outpost: {error}", file=sys.stderr)
        return 1
    return result
