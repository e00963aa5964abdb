"""What the command says when a user's machine or settings stop a verb: one line.

Every failure a user can cause and fix (a port already taken, a database that does not answer,
a setting the code cannot use, a file it may not write) ends the verb with one line on stderr,
``outpost: <the cause>: <what to do>``, and a non-zero exit status: 2 for a setting or an
argument, 1 for the rest. This module holds the failures every package's verbs share; each
package adds the errors it knows (its settings, its database) as a :data:`FailureRule`, so this
module knows none of them. An error no rule knows is a bug, and keeps its traceback so that it
stays visible.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FAILED = 1
BAD_SETTING = 2
USAGE_ERROR = 2  # argparse's status for a bad argument


class CommandFailed(Exception):
    """Stops a verb with ``message`` (one line, cause then remedy) and ``exit_status``."""

    def __init__(self, message: str, exit_status: int = FAILED) -> None:
        super().__init__(" ".join(message.split()))  # a server's message may span lines
        self.exit_status = exit_status


# A package's knowledge of its own errors: the line for one it knows, None for the rest.
FailureRule = Callable[[BaseException], "CommandFailed | None"]


def known_failure(error: BaseException, rules: Iterable[FailureRule] = ()) -> CommandFailed | None:
    """The line for an error a user can cause; None for one nobody expected (a bug). The
    packages' ``rules`` are asked in order, before the generic file failure."""
    if isinstance(error, CommandFailed):
        return error
    for rule in rules:
        failure = rule(error)
        if failure is not None:
            return failure
    if isinstance(error, OSError) and error.filename is not None:
        return path_failure(error)
    return None


def configuration_failure(error: BaseException) -> CommandFailed:
    """A setting the code cannot use: ``configuration error: ...``, exit status 2."""
    return CommandFailed(f"configuration error: {error}", BAD_SETTING)


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
