"""Prepare the bench's origin in one process: ``python -m loadtest.bench.provision SUBJECT...``.

Runs the same ``outpost`` verbs a person would (``db upgrade``, ``db seed`` for the demo's data,
``keys generate``, ``token``) through the origin's own verb set (``origin.cli``), in one
interpreter instead of one per verb (that saves seconds on a busy machine). Settings come from
the environment, as for ``outpost``.
Prints a JSON object: ``{"tokens": {subject: token}}``. A subject ``name:role`` gets that role.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Sequence


class ProvisionFailed(RuntimeError):
    pass


def run_cli(*arguments: str) -> str:
    """Run one ``outpost`` verb here; what it printed, or :class:`ProvisionFailed`."""
    import origin.cli
    from shared.cli.command import build_parser, run

    verb_sets = [origin.cli]
    parser = build_parser("outpost", "the origin's verbs", verb_sets)
    printed, complaints = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(complaints):
        code = run(parser, verb_sets, list(arguments))
    if code != 0:
        raise ProvisionFailed(
            f"outpost {' '.join(arguments)} exited with {code}: {complaints.getvalue().strip()}"
        )
    return printed.getvalue().strip()


def provision(subjects: Sequence[str]) -> dict[str, str]:
    run_cli("db", "upgrade")
    run_cli("db", "seed")  # template:demo
    run_cli("keys", "generate")
    tokens = {}
    for subject in subjects:
        name, _, role = subject.partition(":")
        tokens[name] = run_cli("token", "--sub", name, *(("--role", role) if role else ()))
    return tokens


def main(argv: Sequence[str] | None = None) -> int:
    subjects = list(sys.argv[1:] if argv is None else argv)
    try:
        tokens = provision(subjects)
    except ProvisionFailed as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps({"tokens": tokens}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
