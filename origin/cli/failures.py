"""The origin's own failures, as one line each: its settings, its database, its signing keys.

:func:`known_failure` is the origin's rule for :func:`shared.cli.failures.known_failure`; the
others turn what opening the database or the keyring raised into the line that names the fix.
"""

from __future__ import annotations

import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from shared.cli.failures import BAD_SETTING, CommandFailed, configuration_failure, reason_of


def known_failure(error: BaseException) -> CommandFailed | None:
    """The origin's errors a user can cause: a bad setting, an unmigrated database."""
    # Imported here: only a failing verb needs them.
    from origin.db.migrate import DatabaseNotMigrated
    from origin.settings import SettingsError

    if isinstance(error, SettingsError):
        return configuration_failure(error)
    if isinstance(error, DatabaseNotMigrated):
        return CommandFailed(str(error))
    return None


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """What a failure message may say about ``DATABASE_URL``: never its password."""

    backend: str  # "postgresql", "sqlite"
    host: str
    port: int
    user: str
    database: str

    @classmethod
    def of(cls, database_url: str) -> DatabaseTarget:
        from sqlalchemy.engine import make_url

        url = make_url(database_url)
        return cls(
            backend=url.get_backend_name(),
            host=url.host or "localhost",
            port=url.port or 5432,
            user=url.username or "",
            database=url.database or "",
        )

    @property
    def server(self) -> str:
        return f"PostgreSQL at {self.host}:{self.port}"

    @property
    def who(self) -> str:
        return f"user {self.user!r}" if self.user else "the default user (none in DATABASE_URL)"


def database_failure(
    error: BaseException, database_url: str, timeout_seconds: float
) -> CommandFailed | None:
    """Why the database at ``database_url`` could not be opened, when the user can fix it."""
    import sqlalchemy.exc

    if isinstance(error, TypeError | ValueError | sqlalchemy.exc.ArgumentError):
        # A URL that does not parse, or a query the driver does not take (``?sslmode=``).
        hint = " (asyncpg spells sslmode as ssl: ?ssl=require)" if "sslmode" in str(error) else ""
        return CommandFailed(
            f"configuration error: DATABASE_URL cannot be used ({error}): fix it{hint}",
            BAD_SETTING,
        )
    target = DatabaseTarget.of(database_url)
    if target.backend == "sqlite":
        return _sqlite_failure(error, target)
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        return _postgres_refusal(error, target)
    if isinstance(error, socket.gaierror):
        return CommandFailed(
            f"cannot reach PostgreSQL: the host {target.host!r} in DATABASE_URL does not "
            "resolve; fix the host name in DATABASE_URL"
        )
    if isinstance(error, TimeoutError):
        return CommandFailed(
            f"{target.server} did not answer within {timeout_seconds:g} s: check that it runs "
            "and that this machine can reach it, or fix DATABASE_URL"
        )
    if isinstance(error, OSError):
        return CommandFailed(
            f"cannot reach {target.server} ({reason_of(error)}): start it, or point DATABASE_URL "
            "at a server that runs"
        )
    return None


def _postgres_refusal(error: BaseException, target: DatabaseTarget) -> CommandFailed:
    said = str(getattr(error, "orig", None) or error)
    state = getattr(getattr(error, "orig", None), "sqlstate", None) or ""
    if state.startswith("28"):  # invalid authorization: unknown user, wrong password
        return CommandFailed(
            f"{target.server} refused to let {target.who} in ({said}): fix the user name or "
            "password in DATABASE_URL"
        )
    if state == "3D000":  # invalid catalog name
        return CommandFailed(
            f"{target.server} has no database {target.database!r}: create it (createdb "
            f"{target.database}) or fix the database name in DATABASE_URL"
        )
    return CommandFailed(
        f"{target.server} refused the connection ({said}): fix DATABASE_URL, or the server"
    )


def _sqlite_failure(error: BaseException, target: DatabaseTarget) -> CommandFailed | None:
    remedy = (
        "set OUTPOST_DATA_DIR (or DATABASE_URL) to a place where this user can create and "
        "write files"
    )
    if isinstance(error, OSError) and error.filename is not None:
        return CommandFailed(
            f"cannot create the directory of the SQLite database {target.database} "
            f"({error.filename}: {reason_of(error)}): {remedy}"
        )
    if isinstance(error, sqlite3.Error):
        return CommandFailed(
            f"cannot open the SQLite database {target.database} ({error}): {remedy}"
        )
    return None


def keyring_failure(error: OSError, path: Path) -> CommandFailed:
    """The signing keys' file (or its directory) could not be read or created."""
    return CommandFailed(
        f"cannot use the signing keys at {path} ({error.filename}: {reason_of(error)}): let this "
        "user read and write there, or set OUTPOST_SIGNING_KEYS_FILE to another file"
    )
