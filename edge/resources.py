"""Reading the data files shipped with the code (``shared/policies/*.json``; where they are is
:mod:`shared.settings_rules`'s to say)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
