"""Every start-up failure a user can cause ends the verb with one line on stderr that names the
cause and what to do, and a non-zero exit: no traceback, no ready line, no process left behind.

The failures are data (tests/data/startup_failures.json); each runs the real command, against
real ports and real (or really unreachable) databases.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from origin.db import upgrade
from origin.servers import DEFAULT_SERVER, SERVER_NAMES
from origin.settings import ENV_PREFIX
from tests.conftest import POSTGRES_URL, service_missing
from tests.support.ports import port_outside_ephemeral_range

CASES_FILE = Path(__file__).resolve().parents[2] / "data" / "startup_failures.json"
OUTPOST = [sys.executable, "-m", "commands"]
READY_LINES = ("serving on", "dev: edge", "dev: origin")
# Settings a developer's shell may hold; each case starts without them.
SETTING_PREFIXES = ("OUTPOST_", "EDGE_", "JWT_", "JWKS_", "ORIGIN_", "DATABASE_URL", "REDIS_URL")
RUN_MARKER = "OUTPOST_TEST_STARTUP_RUN"
PARALLEL_RUNS = 4
RUN_TIMEOUT = 60  # seconds; the slowest case waits 5 for a database that never answers


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    exit: int
    says: list[str]
    env: dict[str, str] = field(default_factory=dict)
    needs: list[str] = field(default_factory=list)
    migrated: bool = False


# The failures most likely on any server, shown with each of the others too (the default runs
# the cases as they are).
ON_EVERY_SERVER = ("origin: its port is taken", "origin: PostgreSQL refuses connections")


def load_cases() -> list[Case]:
    document: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    cases = [Case(**case) for case in document["cases"]]
    return cases + [
        replace(
            case, name=f"{case.name} (--server {server})", argv=[*case.argv, "--server", server]
        )
        for case in cases
        if case.name in ON_EVERY_SERVER
        for server in SERVER_NAMES
        if server != DEFAULT_SERVER
    ]


@dataclass(frozen=True)
class Outcome:
    places: dict[str, str]
    completed: subprocess.CompletedProcess[str]
    left_behind: list[int]  # processes the run left running


def unmet(needs: list[str]) -> str | None:
    """Why this machine cannot show the failure; None when it can."""
    if "demo" in needs and importlib.util.find_spec("origin.demo") is None:
        return "the demo shop's verbs (db seed): this app was made without the demo"
    if "not-root" in needs and os.geteuid() == 0:
        return "root may bind any port: run as another user to see this failure"
    if "postgres" in needs:
        server = urlsplit(POSTGRES_URL)
        try:
            socket.create_connection((server.hostname, server.port or 5432), timeout=2).close()
        except OSError as error:
            return f"postgres: {error}"
    return None


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Every case the machine can show, run a few at a time (each command spends seconds
    importing its libraries, most of it waiting on a busy machine)."""
    runnable = [case for case in load_cases() if unmet(case.needs) is None]
    with ExitStack() as held, ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        prepared = [(case, prepare(case, tmp_path_factory, held)) for case in runnable]
        runs = {case.name: pool.submit(run, case, places) for case, places in prepared}
        yield {name: run.result() for name, run in runs.items()}


def prepare(
    case: Case, tmp_path_factory: pytest.TempPathFactory, held: ExitStack
) -> dict[str, str]:
    """The case's places, and its database migrated when it needs one: here, one at a time on
    this thread (event loops started concurrently in the pool's threads could hang aiosqlite)."""
    places = held_places(tmp_path_factory.mktemp("startup"), held)
    if case.migrated:
        asyncio.run(upgrade(f"sqlite:///{Path(places['tmp']) / 'data' / 'outpost.db'}"))
    return places


def held_places(tmp_path: Path, held: ExitStack) -> dict[str, str]:
    """What the placeholders stand for, in a directory and with a held port of their own."""
    holder = held.enter_context(socket.socket())
    holder.bind(("127.0.0.1", 0))
    holder.listen(16)  # never accepted from: the port is taken, and silent to a client
    held_port = holder.getsockname()[1]
    # Bound but not listening: every connection is refused, and no other process (another
    # case's server, an outgoing connection) can take the port meanwhile.
    closed = held.enter_context(socket.socket())
    closed.bind(("127.0.0.1", 0))
    (tmp_path / "a-file").write_text("a file where a directory is expected\n")
    (tmp_path / "not-a-database.txt").write_text("plain text, not SQLite\n")
    (tmp_path / "broken-keyring.json").write_text("{not json")
    postgres = urlsplit(POSTGRES_URL)
    first, second = sorted({port_outside_ephemeral_range() for _ in range(3)})[:2]
    return {
        "held_port": str(held_port),
        "free_port": str(first),
        "free_port_2": str(second),
        "closed_port": str(closed.getsockname()[1]),
        "postgres_netloc": postgres.netloc,
        "postgres_address": f"{postgres.hostname}:{postgres.port or 5432}",
        "postgres_database": postgres.path.lstrip("/"),
        "tmp": str(tmp_path),
        # An app made from the template has its own prefix and command name (tests/data is frozen
        # when the app is made; this module is renamed with the rest of the code).
        "env": ENV_PREFIX,
        "command": "outpost",
    }


def run(case: Case, places: dict[str, str]) -> Outcome:
    tmp_path = Path(places["tmp"])
    marker = uuid.uuid4().hex
    env = clean_environment(tmp_path, marker)
    env.update({filled(name, places): filled(value, places) for name, value in case.env.items()})
    argv = [*OUTPOST, *(filled(argument, places) for argument in case.argv)]
    try:
        completed = subprocess.run(  # noqa: S603 - our own CLI
            argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT
        )
    except subprocess.TimeoutExpired:  # a failure of this case alone
        completed = subprocess.CompletedProcess(argv, -1, "", f"no answer in {RUN_TIMEOUT} s")
    return Outcome(places, completed, processes_carrying(marker))


def filled(text: str, places: Mapping[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: places[match.group(1)], text)


def clean_environment(tmp_path: Path, marker: str) -> dict[str, str]:
    env = {
        name: value for name, value in os.environ.items() if not name.startswith(SETTING_PREFIXES)
    }
    env.update(
        {
            "OUTPOST_DATA_DIR": str(tmp_path / "data"),
            "OUTPOST_LOG_LEVEL": "WARNING",
            RUN_MARKER: marker,  # inherited by anything the command starts
        }
    )
    return env


def processes_carrying(marker: str) -> list[int]:
    """Processes whose environment holds ``RUN_MARKER=marker``: what a run left behind."""
    needle = f"{RUN_MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@pytest.mark.parametrize("case", load_cases(), ids=lambda case: case.name)
def test_a_start_up_failure_is_one_line_naming_the_cause_and_the_remedy(
    case: Case, outcomes: dict[str, Outcome]
) -> None:
    reason = unmet(case.needs)
    if reason is not None and reason.startswith("postgres"):
        service_missing("postgres", POSTGRES_URL, OSError(reason))
    if reason is not None:
        pytest.skip(reason)
    outcome = outcomes[case.name]
    completed = outcome.completed

    lines = completed.stderr.splitlines()
    assert completed.returncode == case.exit, completed.stderr
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("outpost"), lines[0]
    for expected in case.says:
        assert filled(expected, outcome.places) in lines[0]
    assert not any(ready in completed.stdout for ready in READY_LINES), completed.stdout
    assert outcome.left_behind == []
