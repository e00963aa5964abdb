"""``outpost token --sub S [--role R ...] [--ttl N]``: a development access token, for curl.

Prints the token and nothing else::

    curl -H "Authorization: Bearer $(outpost token --sub alice --role admin)" ...

The token is signed with the current key of the keyring (created on first use outside
production); it belongs to no session, so it cannot be revoked and simply expires.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from origin.cli.preflight import require_keyring
from origin.settings import Settings
from shared.cli.arguments import positive_int

MAX_SUBJECT_LENGTH = 255  # what shared.jwt accepts in ``sub``


def register(verbs: Any) -> None:
    token = verbs.add_parser(
        "token",
        help="mint a development access token",
        description="Print an access token for a subject and roles, signed with the origin's "
        "current key (for curl, tests and load tests). Refused with OUTPOST_ENV=production.",
    )
    token.add_argument(
        "--sub", required=True, type=_subject, help="the subject (who the token speaks for)"
    )
    token.add_argument(
        "--role",
        action="append",
        default=[],
        dest="roles",
        metavar="ROLE",
        help="a role to grant (repeat for several), e.g. admin",
    )
    token.add_argument(
        "--ttl", type=positive_int, help="lifetime in seconds (default OUTPOST_ACCESS_TOKEN_TTL)"
    )
    token.set_defaults(handler=run_token)


def run_token(args: argparse.Namespace) -> int:
    from origin.identity.keyring_file import keyring_source
    from origin.identity.service import token_policy
    from origin.identity.tokens import mint_access_token

    settings = Settings.from_env()
    if settings.is_production:
        print(
            "outpost: refusing to mint a development token with OUTPOST_ENV=production",
            file=sys.stderr,
        )
        return 1
    created = require_keyring(settings)
    if created is not None:
        print(f"outpost: created a development signing key at {created}", file=sys.stderr)
    print(
        mint_access_token(
            keyring_source(settings).keyring().signing_key(),
            token_policy(settings),
            subject=args.sub,
            roles=args.roles,
            session_id=None,
            now=int(time.time()),
            ttl_seconds=args.ttl,
        )
    )
    return 0


def _subject(raw: str) -> str:
    if not 0 < len(raw) <= MAX_SUBJECT_LENGTH:
        raise argparse.ArgumentTypeError(f"give 1 to {MAX_SUBJECT_LENGTH} characters")
    return raw
