"""The behaviour suite's launcher for the real worker (edge/worker.py) under Pyodide.

The edge's environment becomes the worker's bindings exactly: names containing ``SECRET`` as
secrets (``--secret``, from the process environment, as ``wrangler secret put`` would), the rest
as vars; every wrangler.toml var the environment does not name is blanked, so the placeholder
``https://origin.example.com`` URLs never leak into a test. See tests/edge/behaviour/conftest.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from tests.edge.pyodide.harness import harness_command, start_harness, wrangler_vars


def harness_bindings(env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(vars, secrets) for ``env``, with wrangler.toml's own vars blanked where not given."""
    variables = {name: "" for name in wrangler_vars()}
    secrets: dict[str, str] = {}
    for name, value in env.items():
        (secrets if "SECRET" in name else variables)[name] = value
    return variables, secrets


class PyodideLauncher:
    name = "pyodide"

    def geolocated(self, country: str) -> dict[str, str]:
        # The harness's stand-in for Cloudflare's IP geolocation; stripped before the worker.
        return {"X-Harness-Cf-Country": country}

    @contextlib.contextmanager
    def start(self, env: Mapping[str, str]) -> Iterator[str]:
        variables, secrets = harness_bindings(env)
        command = harness_command(variables=variables, secrets=list(secrets))
        harness = start_harness(command, environment=secrets)
        try:
            yield harness.base_url
        finally:
            harness.stop()
