"""Evaluate JavaScript expressions against one of the harness's ES modules, in one Node run."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.edge.pyodide.harness import PROJECT_ROOT, node_executable

HOST_DIR = PROJECT_ROOT / "tools" / "pyodide-host"

# Each expression sees the module as `m`; its value (awaited) must be JSON-serialisable.
_RUNNER = """
const m = await import(process.argv[1]);
const expressions = JSON.parse(process.argv[2]);
const results = {};
for (const [name, expression] of Object.entries(expressions)) {
  try {
    results[name] = { value: await new Function("m", `return (${expression});`)(m) };
  } catch (error) {
    results[name] = { error: `${error.name}: ${error.message}` };
  }
}
console.log(JSON.stringify(results));
"""


def evaluate(module: str, expressions: dict[str, str]) -> dict[str, dict[str, Any]]:
    """{name: {"value": ...}} or {name: {"error": "TypeError: ..."}} for each expression."""
    module_url = (HOST_DIR / module).resolve().as_uri()
    completed = subprocess.run(  # noqa: S603 - our own command line, no shell
        [
            node_executable(),
            "--input-type=module",
            "-e",
            _RUNNER,
            module_url,
            json.dumps(expressions),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    results: dict[str, dict[str, Any]] = json.loads(completed.stdout)
    return results
