"""Accounts in the database: register one, find one for a login or by its subject.

The password work (hashing, policy) happens before these functions are called and outside any
transaction, so no database connection is held while Argon2 runs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, Row, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db import read_transaction, write_transaction
from origin.identity.models import USER_ACCOUNTS

DEFAULT_ROLES = frozenset({"customer"})
SUBJECT_PREFIX = "usr_"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    subject: str
    email: str
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class LoginRecord:
    account: Account
    password_hash: str


def normalise_email(email: str) -> str:
    """One spelling per address, so ``Alice@Example.com`` cannot register twice."""
    return email.strip().lower()


def new_subject() -> str:
    return SUBJECT_PREFIX + secrets.token_urlsafe(16)


async def register(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    now: datetime,
    roles: frozenset[str] = DEFAULT_ROLES,
) -> bool:
    """Create the account; False (and no change) when the address is taken.

    One ``INSERT ... ON CONFLICT DO NOTHING`` either way: a taken address costs the same
    statement as a free one, so the answer's timing does not tell them apart.
    """
    values = {
        "subject": new_subject(),
        "email": normalise_email(email),
        "password_hash": password_hash,
        "roles": " ".join(sorted(roles)),
        "created_at": now,
    }
    async with write_transaction(session) as connection:
        statement = _insert_ignoring_conflicts(connection).values(**values)
        created = await connection.execute(statement.returning(USER_ACCOUNTS.c.id))
        return created.one_or_none() is not None


async def find_login(session: AsyncSession, email: str) -> LoginRecord | None:
    statement = select(USER_ACCOUNTS).where(USER_ACCOUNTS.c.email == normalise_email(email))
    async with read_transaction(session) as connection:
        row = (await connection.execute(statement)).one_or_none()
    if row is None:
        return None
    return LoginRecord(account=_account(row), password_hash=row.password_hash)


async def find_account(session: AsyncSession, subject: str) -> Account | None:
    statement = select(USER_ACCOUNTS).where(USER_ACCOUNTS.c.subject == subject)
    async with read_transaction(session) as connection:
        row = (await connection.execute(statement)).one_or_none()
    return None if row is None else _account(row)


async def replace_password_hash(session: AsyncSession, account_id: int, password_hash: str) -> None:
    """Store a hash made with the current parameters (after a login with an outdated one)."""
    async with write_transaction(session) as connection:
        await connection.execute(
            update(USER_ACCOUNTS)
            .where(USER_ACCOUNTS.c.id == account_id)
            .values(password_hash=password_hash)
        )


async def set_roles(session: AsyncSession, subject: str, roles: frozenset[str]) -> bool:
    """Give the account exactly ``roles`` (from its next token on); False if there is none."""
    async with write_transaction(session) as connection:
        changed = await connection.execute(
            update(USER_ACCOUNTS)
            .where(USER_ACCOUNTS.c.subject == subject)
            .values(roles=" ".join(sorted(roles)))
        )
        return changed.rowcount == 1


def _insert_ignoring_conflicts(connection: AsyncConnection) -> Insert:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement: Insert = dialect.insert(USER_ACCOUNTS).on_conflict_do_nothing()
    return statement


def _account(row: Row[tuple[object, ...]]) -> Account:
    mapping = row._mapping
    return Account(
        id=mapping["id"],
        subject=mapping["subject"],
        email=mapping["email"],
        roles=frozenset(str(mapping["roles"]).split()),
    )
