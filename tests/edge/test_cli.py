"""``outpost edge``: the verb serves the edge on either runtime until it is told to stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from commands import main
from edge.runtime.cpython.workerd_host import BUNDLE_SETTING, WorkerdUnavailable, find_setup
from tests.conftest import service_missing
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


def test_a_workerd_configuration_error_is_reported_before_wrangler_starts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGE_ASSERTION_SECRET", raising=False)
    arguments = ["edge", "--runtime", "workerd", "--mode", "production"]

    assert main([*arguments, "--origin", "http://127.0.0.1:1"]) == 2
    assert "EDGE_ASSERTION_SECRET is required" in capsys.readouterr().err


@pytest.mark.parametrize("runtime", ["cpython", "workerd"])
def test_the_verb_serves_the_edge_until_terminated(lab: Lab, runtime: str) -> None:
    if runtime == "workerd":
        try:
            find_setup(os.environ)
        except WorkerdUnavailable as error:
            service_missing("workerd", "wrangler dev", error)
    sock, port = bound_socket()
    sock.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGE_", "JWT", "ORIGIN"))}
    command = [sys.executable, "-m", "commands", "edge", "--runtime", runtime]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [*command, "--port", str(port), "--origin", lab.base_url],
        env={**env, "EDGE_ASSERTION_SECRET": "a-test-only-assertion-secret-0123456789"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        response = _first_answer(f"http://127.0.0.1:{port}/echo/cli-{runtime}", timeout=180)

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
    command = [sys.executable, "-m", "commands", "edge", "--port", "0", "--origin", lab.base_url]
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
            # wrangler dev's proxy holds a request until the worker is loaded.
            return httpx.get(url, timeout=timeout)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_pyodide_is_another_name_for_the_workerd_runtime(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(BUNDLE_SETTING, str(tmp_path))  # no bundle there: refused before start

    assert main(["edge", "--runtime", "pyodide", "--origin", "http://127.0.0.1:1"]) == 2
    assert f"{BUNDLE_SETTING}={tmp_path} holds no pyodide_dev.capnp.bin" in capsys.readouterr().err


def test_a_bundle_folder_without_the_bundle_is_one_line_naming_the_setting(
    lab: Lab, tmp_path: Path
) -> None:
    completed = _edge_process(["--runtime", "workerd", "--origin", lab.base_url], tmp_path)

    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"outpost: {BUNDLE_SETTING}={tmp_path} holds no pyodide_dev.capnp.bin: point it at "
        "the folder with the offline Pyodide bundle, or unset it to use the official one"
    ]
    assert completed.stdout == ""


def test_offline_without_a_bundle_folder_is_one_line_naming_the_setting(lab: Lab) -> None:
    try:
        find_setup({}, online=None)
    except WorkerdUnavailable:
        pass
    else:
        pytest.skip("the official Pyodide bundle's host is reachable here: not offline")
    completed = _edge_process(["--runtime", "workerd", "--origin", lab.base_url], None)

    assert completed.returncode == 2
    [line] = completed.stderr.splitlines()
    assert "cannot reach" in line
    assert f"set {BUNDLE_SETTING} to a folder holding pyodide_dev.capnp.bin" in line


def _edge_process(
    arguments: list[str], bundle_dir: Path | None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGE_", "JWT", "ORIGIN"))}
    env.pop(BUNDLE_SETTING, None)
    if bundle_dir is not None:
        env[BUNDLE_SETTING] = str(bundle_dir)
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "commands", "edge", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
