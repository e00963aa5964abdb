"""Serve a test worker under workerd the way wrangler serves the edge: ``wrangler dev`` on a
scratch project whose ``main`` is the test worker, next to the edge's built ``edge/`` and
``shared/`` packages and its vendored ``python_modules/`` (tools/build_worker.py's output)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from edge.runtime.cpython.workerd_host import (
    PROJECT_ROOT,
    WorkerdUnavailable,
    find_setup,
    read_config,
    running_wrangler_dev,
)
from tests.conftest import service_missing
from tests.edge.support.launchers import wait_until_answering
from tests.edge.support.threads import bound_socket


def probe_project(worker: Path, root: Path) -> Path:
    """wrangler.toml for ``worker`` with the edge's own runtime settings; returns its path."""
    built = PROJECT_ROOT / "build" / "worker"
    completed = subprocess.run(  # noqa: S603 - our own build script
        [sys.executable, str(PROJECT_ROOT / "tools" / "build_worker.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for package in ("edge", "shared"):
        shutil.copytree(built / package, root / "worker" / package)
    shutil.copyfile(worker, root / "worker" / worker.name)
    shutil.copytree(PROJECT_ROOT / "python_modules", root / "python_modules")
    edge_config = read_config()
    config = root / "wrangler.toml"
    config.write_text(
        f'name = "probe"\nmain = "worker/{worker.name}"\nbase_dir = "worker"\n'
        f'compatibility_date = "{edge_config["compatibility_date"]}"\n'
        f"compatibility_flags = {edge_config['compatibility_flags']!r}\n".replace("'", '"')
        + '[[rules]]\ntype = "Data"\nglobs = ["**/*.json"]\nfallthrough = false\n',
        encoding="utf-8",
    )
    return config


@contextlib.contextmanager
def running_probe_worker(worker: Path) -> Iterator[str]:
    """The base URL of ``worker`` served under workerd (skips, or fails in CI, without it)."""
    try:
        setup = find_setup(os.environ)
    except WorkerdUnavailable as error:
        service_missing("workerd", "wrangler dev", error)
        raise  # service_missing skips or fails the test: not reached
    sock, port = bound_socket()
    sock.close()  # wrangler binds it itself
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="outpost-probe-") as scratch:
        config = probe_project(worker, Path(scratch))
        log = Path(scratch) / "wrangler.log"
        with log.open("wb") as output:
            running = running_wrangler_dev(
                setup,
                {},
                host="127.0.0.1",
                port=port,
                environ=os.environ,
                output=output.fileno(),
                config=config,
            )
            with running as process:
                wait_until_answering(url, process, log)
                yield url
