"""`outpost edge --runtime pyodide`: serve_pyodide runs the real worker in the Node harness,
configured by the environment alone, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from edge.runtime.pyodide_host import worker_bindings
from tests.edge.pyodide.harness import PROJECT_ROOT, node_executable
from tests.edge.support.lab import running_lab
from tests.edge.support.threads import bound_socket

SERVE = (
    "from edge.runtime.pyodide_host import serve_pyodide as s; import os, sys; "
    "sys.exit(s(dict(os.environ), host='127.0.0.1', port=int(sys.argv[1])))"
)


def test_only_edge_settings_become_bindings_and_secrets_stay_secret() -> None:
    env = {
        "ORIGIN_URL": "http://127.0.0.1:9",
        "EDGE_ASSERTION_SECRET": "s" * 40,
        "JWT_AUDIENCE": "aud",
        "HOME": "/root",
        "AWS_SECRET_ACCESS_KEY": "never",
    }

    variables, secrets = worker_bindings(env, ["ORIGIN_URL", "JWKS_URL"])

    assert variables == {"ORIGIN_URL": "http://127.0.0.1:9", "JWKS_URL": "", "JWT_AUDIENCE": "aud"}
    assert secrets == {"EDGE_ASSERTION_SECRET": "s" * 40}


def test_serve_pyodide_serves_the_worker_until_sigterm() -> None:
    node_executable()  # skips (or fails in CI) when the harness cannot run
    sock, port = bound_socket()
    sock.close()
    with running_lab() as lab:
        env = {
            **os.environ,
            "ORIGIN_URL": lab.base_url,
            "EDGE_MODE": "local",
            "EDGE_ASSERTION_SECRET": "a-test-only-assertion-secret-0123456789",
        }
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-c", SERVE, str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = ""
            while not line.startswith("ready "):
                line = process.stdout.readline()
                assert line, "serve_pyodide exited before it was ready"
            response = httpx.get(f"http://127.0.0.1:{port}/hello", timeout=30.0)
        finally:
            process.send_signal(signal.SIGTERM)
            status = process.wait(timeout=30)
            process.stdout.close()  # type: ignore[union-attr]

    assert response.status_code == 200
    assert response.headers["x-cache"] == "BYPASS"
    assert response.json()["target"] == "/hello"
    assert lab.received("/hello")[0].header("x-outpost-assertion") is not None
    assert status == 0
