"""The one line each known start-up failure becomes: its cause, then the option that fixes it.

The real commands run these failures in test_startup_failures.py; the errors below are the ones
a test machine cannot always cause (root may bind port 80) and the classes nobody expected.
"""

from __future__ import annotations

import errno
import os
import socket

import pytest

from shared.cli.failures import (
    BAD_SETTING,
    CommandFailed,
    Listener,
    known_failure,
    listen_failure,
    reason_of,
)

ORIGIN = Listener(
    "origin", "127.0.0.1", 80, host_option="--host or OUTPOST_HOST", port_option="--port"
)


@pytest.mark.parametrize(
    ("error", "cause", "remedy"),
    [
        (OSError(errno.EADDRINUSE, "in use"), "port 80 is already in use", "--port"),
        (OSError(errno.EACCES, "denied"), "permission denied", "from 1024 up with --port"),
        (OSError(errno.EADDRNOTAVAIL, "no"), "not an address of this machine", "--host or"),
        (socket.gaierror(socket.EAI_NONAME, "unknown"), "does not resolve", "--host or"),
        (OSError(errno.ENOBUFS, "no buffers"), os.strerror(errno.ENOBUFS), "--port"),
    ],
)
def test_a_listen_failure_names_the_address_the_cause_and_the_option(
    error: OSError, cause: str, remedy: str
) -> None:
    message = str(listen_failure(error, ORIGIN))

    assert message.startswith("cannot serve the origin on 127.0.0.1:80")
    assert cause in message
    assert remedy in message
    assert "\n" not in message


def test_an_ipv6_address_is_written_in_brackets() -> None:
    listener = Listener("edge", "::1", 8787, host_option="--host", port_option="--port")

    assert "[::1]:8787" in str(listen_failure(OSError(errno.EADDRINUSE, "in use"), listener))


def test_the_reason_is_the_systems_words_not_the_librarys() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)")
    wrapped = RuntimeError("the client gave up")
    wrapped.__cause__ = refused

    assert reason_of(refused) == os.strerror(errno.ECONNREFUSED)
    assert reason_of(wrapped) == os.strerror(errno.ECONNREFUSED)


def test_an_error_nobody_expected_is_not_dressed_up_as_a_known_failure() -> None:
    assert known_failure(KeyError("a bug")) is None
    assert known_failure(OSError(errno.ECONNRESET, "reset")) is None  # no file to point at


def test_a_packages_rule_names_its_own_errors_before_the_generic_file_failure() -> None:
    def settings_rule(error: BaseException) -> CommandFailed | None:
        if isinstance(error, FileNotFoundError):
            return CommandFailed("configuration error: no settings file", BAD_SETTING)
        return None

    missing = FileNotFoundError(errno.ENOENT, "No such file", "/etc/app.toml")

    by_rule = known_failure(missing, [settings_rule])
    generic = known_failure(missing)

    assert by_rule is not None
    assert (str(by_rule), by_rule.exit_status) == ("configuration error: no settings file", 2)
    assert generic is not None
    assert str(generic).startswith("cannot use /etc/app.toml (No such file or directory)")
    assert known_failure(KeyError("a bug"), [settings_rule]) is None
