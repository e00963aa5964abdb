"""``outpost edge``: the verb serves the edge on either runtime until it is told to stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from origin.cli import main
from tests.edge.pyodide.harness import node_executable
from tests.edge.support.lab import Lab, running_lab
from tests.edge.support.threads import bound_socket


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab() as server:
        yield server


def test_a_configuration_error_is_reported_not_raised(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGE_ASSERTION_SECRET", raising=False)

    assert main(["edge", "--mode", "production", "--origin", "http://127.0.0.1:1"]) == 2
    assert "EDGE_ASSERTION_SECRET is required" in capsys.readouterr().err


def test_a_runtime_setting_error_is_reported_not_raised(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGE_UPSTREAM_CLIENT", "curl")
    sock, port = bound_socket()
    sock.close()

    assert main(["edge", "--port", str(port), "--origin", "http://127.0.0.1:1"]) == 2
    assert "EDGE_UPSTREAM_CLIENT" in capsys.readouterr().err


def test_a_pyodide_configuration_error_is_reported_before_the_harness_starts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGE_ASSERTION_SECRET", raising=False)
    arguments = ["edge", "--runtime", "pyodide", "--mode", "production"]

    assert main([*arguments, "--origin", "http://127.0.0.1:1"]) == 2
    assert "EDGE_ASSERTION_SECRET is required" in capsys.readouterr().err


@pytest.mark.parametrize("runtime", ["cpython", "pyodide"])
def test_the_verb_serves_the_edge_until_terminated(lab: Lab, runtime: str) -> None:
    if runtime == "pyodide":
        node_executable()  # skips (fails in CI) when the harness cannot run
    sock, port = bound_socket()
    sock.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGE_", "JWT", "ORIGIN"))}
    command = [sys.executable, "-m", "origin.cli", "edge", "--runtime", runtime]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [*command, "--port", str(port), "--origin", lab.base_url],
        env={**env, "EDGE_ASSERTION_SECRET": "a-test-only-assertion-secret-0123456789"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        response = _first_answer(f"http://127.0.0.1:{port}/echo/cli-{runtime}", timeout=60)

        assert response.status_code == 200
        assert response.headers["x-cache"] == "BYPASS"
        assert response.json()["target"] == f"/echo/cli-{runtime}"
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"local mode, {runtime}" in out
    assert lab.received(f"/echo/cli-{runtime}")[0].header("x-outpost-assertion") is not None


def test_the_verb_announces_the_port_it_serves_on_once_it_answers(lab: Lab) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGE_", "JWT", "ORIGIN"))}
    command = [sys.executable, "-m", "origin.cli", "edge", "--port", "0", "--origin", lab.base_url]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        announced = process.stdout.readline()
        url = re.search(r"serving on (http://\S+)", announced)
        assert url is not None, announced
        # No retries: once announced, the edge answers at the first attempt.
        response = httpx.get(f"{url.group(1)}/echo/announced", timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert not url.group(1).endswith(":0"), "the port the system chose, not 0"
    assert response.status_code == 200
    assert process.returncode == 0, err


def _first_answer(url: str, timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
