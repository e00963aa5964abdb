"""Login sessions in the database: open one, rotate its refresh token, revoke it.

Rotation with reuse detection (RFC 9700 §4.14.2): every refresh spends the presented token and
hands out its successor. A spent token presented again was copied, by an attacker or from a
client that leaked it, and nobody can tell which copy is legitimate: the whole session is
revoked, and with it every access token it issued (see :mod:`origin.identity.revocation`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.db import read_transaction, write_transaction
from origin.identity.accounts import Account
from origin.identity.models import AUTH_SESSIONS, REFRESH_TOKENS, USER_ACCOUNTS
from origin.identity.tokens import new_refresh_token, refresh_token_digest

REUSED = "refresh_token_reused"
LOGGED_OUT = "logout"


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A session and its fresh refresh token (the only time the token exists in clear)."""

    account: Account
    session_id: str
    refresh_token: str


class RefusalReason(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    REUSED = "reused"


class RefreshRefused(Exception):
    """The refresh token cannot be exchanged; ``reason`` is for logs, clients see one answer."""

    def __init__(self, reason: RefusalReason, session_id: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.session_id = session_id


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


async def open_session(
    session: AsyncSession, account: Account, *, now: datetime, refresh_ttl: timedelta
) -> IssuedSession:
    session_id = new_session_id()
    token = new_refresh_token()
    async with write_transaction(session) as connection:
        await connection.execute(
            insert(AUTH_SESSIONS).values(id=session_id, user_id=account.id, created_at=now)
        )
        await _insert_refresh_token(connection, token, session_id, now, now + refresh_ttl)
    return IssuedSession(account=account, session_id=session_id, refresh_token=token)


async def rotate_refresh_token(
    session: AsyncSession, token: str, *, now: datetime, refresh_ttl: timedelta
) -> IssuedSession:
    """Spend ``token`` and hand out its successor, or raise :class:`RefreshRefused`.

    The spend is a conditional ``UPDATE ... WHERE used_at IS NULL``: of two concurrent refreshes
    with one token exactly one wins, and the other is treated as the reuse it is. A detected
    reuse revokes the session in the same transaction, so it is committed before we answer.
    """
    digest = refresh_token_digest(token)
    refused: RefreshRefused | None = None
    async with write_transaction(session) as connection:
        found = (
            await connection.execute(
                select(
                    REFRESH_TOKENS.c.expires_at,
                    REFRESH_TOKENS.c.used_at,
                    AUTH_SESSIONS.c.id.label("session_id"),
                    AUTH_SESSIONS.c.revoked_at,
                    USER_ACCOUNTS.c.id,
                    USER_ACCOUNTS.c.subject,
                    USER_ACCOUNTS.c.email,
                    USER_ACCOUNTS.c.roles,
                )
                .join(AUTH_SESSIONS, AUTH_SESSIONS.c.id == REFRESH_TOKENS.c.session_id)
                .join(USER_ACCOUNTS, USER_ACCOUNTS.c.id == AUTH_SESSIONS.c.user_id)
                .where(REFRESH_TOKENS.c.digest == digest)
            )
        ).one_or_none()
        if found is None:
            refused = RefreshRefused(RefusalReason.UNKNOWN)
        elif found.revoked_at is not None:
            refused = RefreshRefused(RefusalReason.REVOKED, found.session_id)
        elif found.used_at is None and found.expires_at <= now:
            refused = RefreshRefused(RefusalReason.EXPIRED, found.session_id)
        elif found.used_at is not None or not await _spend(connection, digest, now):
            await _revoke(connection, found.session_id, now, REUSED)
            refused = RefreshRefused(RefusalReason.REUSED, found.session_id)
        else:
            successor = new_refresh_token()
            await _insert_refresh_token(
                connection, successor, found.session_id, now, now + refresh_ttl
            )
            account = Account(
                id=found.id,
                subject=found.subject,
                email=found.email,
                roles=frozenset(found.roles.split()),
            )
            return IssuedSession(account, found.session_id, successor)
    raise refused


async def revoke_session(
    session: AsyncSession, session_id: str, *, now: datetime, reason: str
) -> bool:
    """Mark the session revoked; False when it does not exist or already was."""
    async with write_transaction(session) as connection:
        return await _revoke(connection, session_id, now, reason)


async def session_revoked(session: AsyncSession, session_id: str) -> bool:
    """The database's answer: revoked, or gone (its account was deleted), is True."""
    statement = select(AUTH_SESSIONS.c.revoked_at).where(AUTH_SESSIONS.c.id == session_id)
    async with read_transaction(session) as connection:
        row = (await connection.execute(statement)).one_or_none()
    return row is None or row.revoked_at is not None


async def revoked_since(session: AsyncSession, since: datetime) -> list[str]:
    """Sessions revoked after ``since``: those whose access tokens may still be unexpired."""
    statement = select(AUTH_SESSIONS.c.id).where(AUTH_SESSIONS.c.revoked_at > since)
    async with read_transaction(session) as connection:
        return list((await connection.execute(statement)).scalars())


async def _spend(connection: AsyncConnection, digest: str, now: datetime) -> bool:
    spent = await connection.execute(
        update(REFRESH_TOKENS)
        .where(REFRESH_TOKENS.c.digest == digest, REFRESH_TOKENS.c.used_at.is_(None))
        .values(used_at=now)
    )
    return spent.rowcount == 1


async def _revoke(connection: AsyncConnection, session_id: str, now: datetime, reason: str) -> bool:
    revoked = await connection.execute(
        update(AUTH_SESSIONS)
        .where(AUTH_SESSIONS.c.id == session_id, AUTH_SESSIONS.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return revoked.rowcount == 1


async def _insert_refresh_token(
    connection: AsyncConnection, token: str, session_id: str, now: datetime, expires_at: datetime
) -> None:
    await connection.execute(
        insert(REFRESH_TOKENS).values(
            digest=refresh_token_digest(token),
            session_id=session_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
