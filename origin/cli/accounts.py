"""``outpost accounts show|grant|revoke``: an account's roles, for operators.

The only way to make someone an administrator in production: accounts register as customers,
and no route lets anyone raise their own roles. A change applies from the account's next access
token; one already issued keeps its roles until it expires (``OUTPOST_ACCESS_TOKEN_TTL``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Iterable
from typing import Any

from origin.cli.preflight import require_database
from origin.settings import Settings

ROLE_PATTERN = re.compile(r"[a-z][a-z0-9_.:-]{0,63}")
"""A role: lowercase, no spaces (the database keeps them space-separated), at most 64 characters
(what the tokens' ``roles`` claim accepts)."""


def register(verbs: Any) -> None:
    accounts = verbs.add_parser(
        "accounts",
        help="show or change an account's roles",
        description="Show or change the roles of an account, found by its email address. A "
        "change applies from the account's next access token.",
    )
    actions = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print an account's subject and roles")
    show.add_argument("email")
    show.set_defaults(handler=run_accounts)
    grant = actions.add_parser("grant", help="give an account roles, e.g. admin")
    grant.add_argument("email")
    grant.add_argument("roles", nargs="+", type=_role, metavar="ROLE")
    grant.set_defaults(handler=lambda args: run_accounts(args, grant=args.roles))
    revoke = actions.add_parser("revoke", help="take roles away from an account")
    revoke.add_argument("email")
    revoke.add_argument("roles", nargs="+", type=_role, metavar="ROLE")
    revoke.set_defaults(handler=lambda args: run_accounts(args, revoke=args.roles))


def changed_roles(
    current: frozenset[str], grant: Iterable[str] = (), revoke: Iterable[str] = ()
) -> frozenset[str]:
    """``current`` with ``grant`` added and ``revoke`` taken away; ValueError when they would
    not fit in the account's record."""
    from origin.identity.models import ROLES_MAX  # heavy (SQLModel): not at --help time

    roles = (current | frozenset(grant)) - frozenset(revoke)
    stored = len(" ".join(roles))
    if stored > ROLES_MAX:
        raise ValueError(f"these roles take {stored} characters; an account holds {ROLES_MAX}")
    return roles


def run_accounts(
    args: argparse.Namespace, grant: Iterable[str] = (), revoke: Iterable[str] = ()
) -> int:
    settings = Settings.from_env()
    require_database(settings.database_url)
    try:
        answer = asyncio.run(_apply(settings.database_url, args.email, grant, revoke))
    except ValueError as error:
        print(f"outpost: {error}", file=sys.stderr)
        return 1
    if answer is None:
        print(f"outpost: no account has the address {args.email!r}", file=sys.stderr)
        return 1
    print(answer)
    return 0


async def _apply(
    database_url: str, email: str, grant: Iterable[str], revoke: Iterable[str]
) -> str | None:
    """The account's line after the change; None when no account has ``email``."""
    from origin.db.engine import create_engine, session_factory
    from origin.db.migrate import ensure_migrated
    from origin.identity.accounts import find_login, set_roles

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        await ensure_migrated(engine)
        async with session_factory(engine)() as session:
            found = await find_login(session, email)
            if found is None:
                return None
            account = found.account
            roles = changed_roles(account.roles, grant, revoke)
            if roles != account.roles and not await set_roles(session, account.subject, roles):
                return None  # deleted between the two statements
    finally:
        await engine.dispose()
    return f"{account.email} {account.subject} roles: {' '.join(sorted(roles)) or '(none)'}"


def _role(raw: str) -> str:
    if not ROLE_PATTERN.fullmatch(raw):
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a role: lowercase letters, digits and _.:- , starting with a "
            "letter, at most 64 characters"
        )
    return raw
