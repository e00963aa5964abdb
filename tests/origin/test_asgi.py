"""``origin.asgi``, the module every server loads: the app, with what start-up made frozen out of
the garbage collector's view (a full collection used to pause requests for up to 67 ms)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_loading_the_app_freezes_what_start_up_made(tmp_path: Path) -> None:
    program = (
        "import gc; import origin.asgi as served; "
        "print(type(served.app).__name__, gc.get_freeze_count(), gc.get_count()[2])"
    )
    env = {**os.environ, "OUTPOST_DATA_DIR": str(tmp_path), "OUTPOST_LOG_LEVEL": "ERROR"}

    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )

    name, frozen, oldest_generation = done.stdout.split()
    assert name == "Starlette"
    # Modules, models, schemas, the app: tens of thousands of objects the collector skips.
    assert int(frozen) > 20_000
    assert int(oldest_generation) == 0
