"""Accounts, login sessions and refresh tokens.

A login opens a session; each refresh replaces the session's refresh token with a new one and
marks the old one used. Presenting a used refresh token again means it was copied: the whole
session is revoked (RFC 9700 §4.14, refresh token rotation). Revoking a session also refuses its
unexpired access tokens at once (see :mod:`origin.identity.revocation`).

An account's ``subject`` (the tokens' ``sub``) is random rather than the row id, so tokens do not
reveal how many accounts exist and cannot collide with the subjects of another issuer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlmodel import Field, SQLModel

import origin.db.metadata  # noqa: F401  (the naming convention must precede every table)
from origin.db.types import UTCDateTime, utcnow

SUBJECT_MAX = 64
EMAIL_MAX = 254  # RFC 5321's limit on a forward path, the longest address that can be delivered
PASSWORD_HASH_MAX = 255
ROLES_MAX = 255
SESSION_ID_MAX = 64
REVOKED_REASON_MAX = 32
DIGEST_LENGTH = 64  # hex SHA-256


class UserAccount(SQLModel, table=True):
    __tablename__ = "user_accounts"

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=SUBJECT_MAX, unique=True)
    # Stored normalised (trimmed, lower case): one address, one account.
    email: str = Field(max_length=EMAIL_MAX, unique=True)
    password_hash: str = Field(max_length=PASSWORD_HASH_MAX)
    # Space-separated, as OAuth scopes are: small, portable across SQLite and PostgreSQL.
    roles: str = Field(default="", max_length=ROLES_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_sessions"

    id: str = Field(max_length=SESSION_ID_MAX, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("user_accounts.id", ondelete="CASCADE"),
            index=True,
            nullable=False,
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, max_length=REVOKED_REASON_MAX)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"

    digest: str = Field(max_length=DIGEST_LENGTH, primary_key=True)
    session_id: str = Field(
        sa_column=Column(
            String(SESSION_ID_MAX),
            ForeignKey("auth_sessions.id", ondelete="CASCADE"),
            index=True,
            nullable=False,
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


USER_ACCOUNTS: Table = UserAccount.__table__  # type: ignore[attr-defined]
AUTH_SESSIONS: Table = AuthSession.__table__  # type: ignore[attr-defined]
REFRESH_TOKENS: Table = RefreshToken.__table__  # type: ignore[attr-defined]
