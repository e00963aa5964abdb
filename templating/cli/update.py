"""``update [--ref REF]``: merge the template's changes since the recorded commit into this app.

Refuses a working tree with uncommitted changes; leaves the result uncommitted, with conflict
markers where the app and the template changed the same lines. See docs/new-app.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(verbs: Any) -> None:
    update = verbs.add_parser(
        "update",
        help="bring in the template's changes since this app was made (or last updated)",
        description="Three-way merge of the template's changes since the commit recorded in "
        ".outpost-template.json into this app: the app's own changes are kept, the template's "
        "applied, overlapping edits left as conflict markers, listed and unmerged in git's index "
        "(so git refuses to commit them unresolved). Nothing is committed. "
        "Exit status 0 when clean, 1 on an error, 3 when conflicts are left to resolve.",
    )
    update.add_argument(
        "--ref", default="HEAD", help="the template commit, branch or tag (default HEAD)"
    )
    update.add_argument(
        "--template",
        default=None,
        metavar="GIT_DIR_OR_URL",
        help="where the template is now, if it moved (default: the recorded source)",
    )
    update.set_defaults(handler=run_update)


CONFLICTS_LEFT = 3


def run_update(args: argparse.Namespace) -> int:
    from templating.errors import TemplateError
    from templating.updating import update_app

    try:
        result = update_app(Path.cwd(), ref=args.ref, source=args.template)
    except TemplateError as error:
        print(f"update: {error}", file=sys.stderr)
        return 1
    if result.up_to_date:
        print(f"already at template {result.new_commit[:12]}")
        return 0
    print(
        f"updated from template {result.old_commit[:12]} to {result.new_commit[:12]}: "
        f"{len(result.changed)} file(s) changed; review with `git diff`, then commit"
    )
    if not result.conflicts:
        return 0
    print(
        f"{len(result.conflicts)} conflict(s) to resolve, left unmerged as `git merge` leaves "
        "them (git refuses to commit until each is resolved and `git add`ed or `git rm`ed):"
    )
    for conflict in result.conflicts:
        print(f"  {conflict.path}: {conflict.reason}")
    return CONFLICTS_LEFT
