"""Data files shipped with the code (``shared/policies/*.json``).

Read relative to the packages, which works on CPython and in a Python Worker (wrangler uploads
them as Data modules, laid out like the source tree).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shared

SHARED_DIR = Path(shared.__file__).resolve().parent
ROUTES_FILE = SHARED_DIR / "policies" / "routes.json"
GEOFENCE_POLICY_FILE = SHARED_DIR / "policies" / "geofence.json"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
