"""``outpost origin`` as a user runs it: real processes, real ports (``outpost dev``:
tests/commands/test_dev.py)."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from origin.servers import SERVER_NAMES
from tests.support.ports import closed_port_url, free_port

OUTPOST = [sys.executable, "-m", "commands"]
SERVER_LOGGERS = {"uvicorn": "uvicorn", "granian": "_granian", "hypercorn": "hypercorn"}


@contextmanager
def running(
    args: list[str], env: dict[str, str], command: Sequence[str] = OUTPOST
) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [*command, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def wait_for(url: str, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def lines_of(process: subprocess.Popen[str], timeout: float = 60.0) -> Iterator[str]:
    """The process's output lines as they come; fails the test if none comes for ``timeout``."""
    assert process.stdout is not None
    arrived: queue.Queue[str | None] = queue.Queue()

    def pump(stream: IO[str]) -> None:
        with stream:
            for line in stream:
                arrived.put(line)
        arrived.put(None)

    threading.Thread(target=pump, args=(process.stdout,), daemon=True).start()
    while (line := arrived.get(timeout=timeout)) is not None:
        yield line


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=20)
    return process.returncode, output


def test_origin_starts_without_redis_and_says_once_how_it_runs_meanwhile(tmp_path: Path) -> None:
    env = {
        "OUTPOST_DATA_DIR": str(tmp_path),
        "OUTPOST_LOG_LEVEL": "WARNING",
        "REDIS_URL": closed_port_url("redis"),
    }
    subprocess.run([*OUTPOST, "db", "upgrade"], env={**os.environ, **env}, check=True)  # noqa: S603
    port = free_port()
    with running(["origin", "--port", str(port)], env) as process:
        health = wait_for(f"http://127.0.0.1:{port}/healthz")
        code, output = stop(process)

    said = [line for line in output.splitlines() if "Redis" in line]
    assert health.status_code == 200
    assert code == 0
    assert len(said) == 1, output
    assert "does not answer" in said[0]
    assert "degraded" in said[0]
    assert "REDIS_URL" in said[0]
    assert "Traceback" not in output


def test_origin_refuses_an_unmigrated_database_saying_what_to_run(tmp_path: Path) -> None:
    env = {"OUTPOST_DATA_DIR": str(tmp_path)}
    with running(["origin", "--port", str(free_port())], env) as process:
        output, _ = process.communicate(timeout=30)

    assert process.returncode == 1
    assert "outpost db upgrade" in output


@pytest.mark.parametrize("server", SERVER_NAMES)
def test_origin_serves_after_upgrade_and_exits_cleanly_on_sigterm(
    tmp_path: Path, server: str
) -> None:
    env = {"OUTPOST_DATA_DIR": str(tmp_path), "OUTPOST_LOG_LEVEL": "INFO", "OUTPOST_SERVER": server}
    subprocess.run([*OUTPOST, "db", "upgrade"], env={**os.environ, **env}, check=True)  # noqa: S603
    port = free_port()
    with running(["origin", "--port", str(port)], env) as process:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        # A header anyone can send does not name the client (the peer does).
        spoofed = {"X-Forwarded-For": "203.0.113.9", "Forwarded": "for=203.0.113.9"}
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", headers=spoofed)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)

    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert health.status_code == 200
    assert [line["client"] for line in logged if "GET /healthz" in line["message"]] == ["127.0.0.1"]
    assert process.returncode == 0
    assert f"({server})" in output.splitlines()[0]
    # The origin's own access log, not the server's; the server's lines are JSON through ours.
    assert [line["logger"] for line in logged if "GET /healthz" in line["message"]] == [
        "outpost.access"
    ]
    assert any(line["logger"].startswith(SERVER_LOGGERS[server]) for line in logged)
    # No terminal colour codes (uvicorn repeats its message with them in ``color_message``).
    assert not any("\x1b" in str(value) for line in logged for value in line.values())
    assert "Traceback" not in output


@pytest.mark.parametrize(("variable", "value"), [("OUTPOST_PORT", "http"), ("REDIS_URL", "x")])
def test_a_bad_setting_stops_the_origin_with_the_variable_named(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {"OUTPOST_DATA_DIR": str(tmp_path), variable: value}
    completed = subprocess.run(  # noqa: S603
        [*OUTPOST, "origin"], env={**os.environ, **env}, capture_output=True, text=True
    )

    assert completed.returncode == 2
    assert variable in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("server", SERVER_NAMES)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path, workers: str, server: str) -> None:
    env = {
        "OUTPOST_DATA_DIR": str(tmp_path),
        "OUTPOST_LOG_LEVEL": "WARNING",
        "OUTPOST_WORKERS": workers,
        "OUTPOST_SERVER": server,
    }
    subprocess.run([*OUTPOST, "db", "upgrade"], env={**os.environ, **env}, check=True)  # noqa: S603
    port = free_port()
    body = b'{"email": "late@example.com", "password": "a long enough password"}'
    with running(["origin", "--port", str(port)], env) as process:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
            connection.sendall(
                b"POST /auth/register HTTP/1.1\r\nHost: origin\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10]
            )
            time.sleep(0.5)  # the request is in flight: headers in, body half sent
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            connection.sendall(body[10:])
            answer = connection.recv(4096)
        process.communicate(timeout=30)

    assert answer.startswith(b"HTTP/1.1 202"), answer[:200]
    assert process.returncode == 0
