"""package.json pins the Pyodide that wrangler.toml's compatibility_date selects on Cloudflare
(mapping: tools/pyodide-host/runtime-versions.json), and the wheels target its Python."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[3]
RUNTIME_VERSIONS = PROJECT_ROOT / "tools" / "pyodide-host" / "runtime-versions.json"


def read_json(relative: str) -> Any:
    return json.loads((PROJECT_ROOT / relative).read_text())


def selected_release() -> dict[str, str]:
    date = tomllib.loads((PROJECT_ROOT / "wrangler.toml").read_text())["compatibility_date"]
    rows = json.loads(RUNTIME_VERSIONS.read_text())["pyodide_by_compatibility_date"]
    eligible = [row for row in rows if row["from"] <= date]
    assert eligible, f"no Pyodide mapping for compatibility_date {date}"
    release: dict[str, str] = eligible[-1]
    return release


def test_package_json_pins_the_pyodide_the_compatibility_date_selects() -> None:
    pinned = read_json("package.json")["dependencies"]["pyodide"]

    assert pinned == selected_release()["pyodide"]


def test_the_lockfile_resolves_the_same_pyodide() -> None:
    locked = read_json("package-lock.json")["packages"]["node_modules/pyodide"]["version"]

    assert locked == selected_release()["pyodide"]


def test_the_mapping_rows_are_in_date_order() -> None:
    rows = json.loads(RUNTIME_VERSIONS.read_text())["pyodide_by_compatibility_date"]
    dates = [row["from"] for row in rows]

    assert dates == sorted(dates)
    assert len(set(dates)) == len(dates)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) for date in dates)


def test_wheels_are_downloaded_for_the_python_of_that_pyodide() -> None:
    script = (PROJECT_ROOT / "tools" / "pyodide-host" / "fetch-wheels.sh").read_text()
    default = re.search(r"PYTHON_VERSION=\$\{PYTHON_VERSION:-([0-9.]+)\}", script)

    assert default is not None
    assert default.group(1) == selected_release()["python"]
