"""``new PATH --name NAME``: start a new app from the outpost template.

The template is read at a commit (``--ref``, default its ``HEAD``), never from a working tree,
so uncommitted work in the template does not leak into the app. See docs/new-app.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def register(verbs: Any) -> None:
    new = verbs.add_parser(
        "new",
        help="create a new app from the outpost template",
        description="Create a new app from the outpost template: every identity renamed to "
        "NAME, fresh development secrets in a git-ignored .env, a new git repository with one "
        "commit, and .outpost-template.json recording the template commit and the answers "
        "(which `update` uses to bring in later template changes).",
    )
    new.add_argument(
        "path", type=Path, metavar="PATH", help="where to create the app (new or empty)"
    )
    new.add_argument(
        "--name",
        required=True,
        help="the app's name: lower-case letters, digits and single hyphens, e.g. my-shop",
    )
    new.add_argument(
        "--no-demo",
        dest="demo",
        action="store_false",
        help="leave out the demo shop (products, orders); keep a minimal example route",
    )
    new.add_argument(
        "--template",
        default=None,
        metavar="GIT_DIR_OR_URL",
        help="the template repository (default: the one this command comes from)",
    )
    new.add_argument(
        "--ref", default="HEAD", help="the template commit, branch or tag (default HEAD)"
    )
    new.set_defaults(handler=run_new)


def run_new(args: argparse.Namespace) -> int:
    from templating.errors import TemplateError
    from templating.generate import create_app

    try:
        source = args.template or default_template_source(PROJECT_ROOT)
        app = create_app(args.path, args.name, source=source, ref=args.ref, demo=args.demo)
    except TemplateError as error:
        print(f"new: {error}", file=sys.stderr)
        return 1
    commit = app.record.commit[:12]
    print(f"created {app.record.answers.name.slug} in {app.path} from template {commit}")
    print(f"next: cd {app.path} && ./scripts/dev")
    return 0


def default_template_source(project_root: Path) -> str:
    """The template this code belongs to: the recorded one inside a generated app, else the
    repository this code runs from."""
    from templating.errors import TemplateError
    from templating.record import RECORD_FILE, TemplateRecord

    record = project_root / RECORD_FILE
    if record.is_file():
        return TemplateRecord.from_json(record.read_text(encoding="utf-8")).source
    if not (project_root / ".git").exists():
        raise TemplateError(f"{project_root} is not a git repository; pass --template")
    return str(project_root)
