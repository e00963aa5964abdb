"""What the ``outpost`` command says when a user's machine or settings stop a verb: one line.

Every failure a user can cause and fix (a port already taken, a database that does not answer,
a setting the code cannot use, a file it may not write) ends the verb with one line on stderr,
``outpost: <the cause>: <what to do>``, and a non-zero exit status: 2 for a setting or an
argument, 1 for the rest. This module maps the known error classes to those lines; an error it
does not know is a bug, and keeps its traceback so that it stays visible.
"""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from origin.settings import SettingsError

FAILED = 1
BAD_SETTING = 2
USAGE_ERROR = 2  # argparse's status for a bad argument


class CommandFailed(Exception):
    """Stops a verb with ``message`` (one line, cause then remedy) and ``exit_status``."""

    def __init__(self, message: str, exit_status: int = FAILED) -> None:
        super().__init__(" ".join(message.split()))  # a server's message may span lines
        self.exit_status = exit_status


def known_failure(error: BaseException) -> CommandFailed | None:
    """The line for an error a user can cause; None for one nobody expected (a bug)."""
    # Imported here: these packages are heavy, and only a failing verb needs them.
    from edge.config import ConfigError
    from origin.db.migrate import DatabaseNotMigrated

    if isinstance(error, CommandFailed):
        return error
    if isinstance(error, SettingsError | ConfigError):
        return CommandFailed(f"configuration error: {error}", BAD_SETTING)
    if isinstance(error, DatabaseNotMigrated):
        return CommandFailed(str(error))
    if isinstance(error, OSError) and error.filename is not None:
        return path_failure(error)
    return None


def path_failure(error: OSError) -> CommandFailed:
    """A file or directory the verb needed and could not use."""
    return CommandFailed(
        f"cannot use {error.filename} ({reason_of(error)}): check that its directory exists and "
        "that this user may read and write there, or choose another path"
    )


@dataclass(frozen=True, slots=True)
class Listener:
    """A server a verb starts, and the options that choose its address (for the remedy)."""

    name: str  # "origin", "edge"
    host: str
    port: int
    host_option: str  # e.g. "--host or OUTPOST_HOST"
    port_option: str

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def listen_failure(error: OSError, listener: Listener) -> CommandFailed:
    """Why ``listener`` could not bind its address, and which option to change."""
    where = f"cannot serve the {listener.name} on {listener.address}"
    if isinstance(error, socket.gaierror):
        return CommandFailed(
            f"{where}: the host name {listener.host!r} does not resolve; give an address of this "
            f"machine (e.g. 127.0.0.1) with {listener.host_option}"
        )
    if error.errno == errno.EADDRINUSE:
        return CommandFailed(
            f"{where}: port {listener.port} is already in use (another outpost still running?); "
            f"stop what listens there or choose another port with {listener.port_option}"
        )
    if error.errno == errno.EACCES:
        return CommandFailed(
            f"{where}: permission denied (ports below 1024 need privileges); choose a port from "
            f"1024 up with {listener.port_option}"
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return CommandFailed(
            f"{where}: {listener.host} is not an address of this machine; use 127.0.0.1, "
            f"0.0.0.0 or one of its own addresses with {listener.host_option}"
        )
    return CommandFailed(
        f"{where} ({reason_of(error)}): choose another address with {listener.host_option} or "
        f"another port with {listener.port_option}"
    )


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


def reason_of(error: BaseException) -> str:
    """The system's words for what went wrong ("Connection refused") when an OS error is behind
    ``error``, rather than a library's ("Connect call failed ('127.0.0.1', 1)")."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None and seen.errno > 0:
            return os.strerror(seen.errno)
        seen = seen.__cause__ or seen.__context__
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
