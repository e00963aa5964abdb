"""The edge's behaviour, tested over HTTP against a running edge, whatever runs it.

Three edges are started per runtime, once per session, each configured only through its
environment (so any runtime can be configured the same way):

- ``corpus_edge``: local mode (``CF-IPCountry`` sets the country), in front of the scripted lab
  origin, its wall clock stopped at the token corpus's instant (``EDGE_FIXED_TIME``), so corpus
  tokens are judged exactly as they were made to be: auth, geofence, forwarding;
- ``lab_edge``: production mode, real clock, in front of the lab: caching, purge by tag, origin
  failures, request limits, and what production mode does with ``CF-IPCountry``;
- ``origin_edge``: local mode, real clock, in front of the real origin app (seeded SQLite), which
  checks the edge's assertions and publishes the JWKS the edge verifies tokens with.

Runtimes: ``OUTPOST_EDGE_RUNTIMES`` (comma-separated, default ``cpython,workerd``) names the
launchers to run the suite with; each name maps to a class in :data:`LAUNCHERS` implementing
:class:`tests.edge.support.launchers.EdgeLauncher`. Where wrangler, its Node 22 or (offline) the
Pyodide bundle named by ``OUTPOST_PYODIDE_BUNDLE_DIR`` is missing, the workerd half skips with
the setup step to run (and fails in CI).
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx
import pytest

from tests.data.tokens import load_corpus
from tests.edge.support.lab import Lab, running_lab
from tests.edge.support.launchers import EdgeLauncher
from tests.edge.support.origin_server import (
    EDGE_KEY_ID,
    EDGE_SECRET,
    RunningOrigin,
    running_origin,
)
from tests.edge.support.tokens import AUDIENCE, ISSUER, corpus_jwks

LAUNCHERS = {
    "cpython": "tests.edge.support.launchers:CPythonLauncher",
    "workerd": "tests.edge.support.launchers:WorkerdLauncher",
}
ORIGIN_TIMEOUT_SECONDS = 1.0


def edge_runtimes() -> list[str]:
    names = os.environ.get("OUTPOST_EDGE_RUNTIMES", "cpython,workerd").split(",")
    return [name.strip() for name in names if name.strip()]


@dataclass
class EdgeUnderTest:
    url: str
    client: httpx.Client
    launcher: EdgeLauncher
    fixed_time: float | None = None

    def now(self) -> float:
        """The edge's idea of the time (its clock may be stopped)."""
        return time.time() if self.fixed_time is None else self.fixed_time


@pytest.fixture(scope="session", params=edge_runtimes())
def edge_launcher(request: pytest.FixtureRequest) -> EdgeLauncher:
    module_name, _, class_name = LAUNCHERS[request.param].partition(":")
    launcher: EdgeLauncher = getattr(importlib.import_module(module_name), class_name)()
    return launcher


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with running_lab() as server:
        server.set_jwks(corpus_jwks())
        yield server


@pytest.fixture(scope="session")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningOrigin]:
    with running_origin(tmp_path_factory.mktemp("origin")) as server:
        yield server


def edge_env(origin_url: str, **overrides: str) -> dict[str, str]:
    return {
        "ORIGIN_URL": origin_url,
        "EDGE_MODE": "local",
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "EDGE_ASSERTION_SECRET": EDGE_SECRET,
        "EDGE_ASSERTION_KEY_ID": EDGE_KEY_ID,
        "ORIGIN_TIMEOUT_SECONDS": str(ORIGIN_TIMEOUT_SECONDS),
        **overrides,
    }


@pytest.fixture(scope="session")
def corpus_edge(edge_launcher: EdgeLauncher, lab: Lab) -> Iterator[EdgeUnderTest]:
    instant = float(load_corpus().now)
    env = edge_env(
        lab.base_url,
        JWKS_URL=f"{lab.base_url}/.well-known/jwks.json",
        JWKS_REFETCH_INTERVAL_SECONDS="1",
        EDGE_FIXED_TIME=repr(instant),
    )
    yield from _started(edge_launcher, env, instant)


@pytest.fixture(scope="session")
def lab_edge(edge_launcher: EdgeLauncher, lab: Lab) -> Iterator[EdgeUnderTest]:
    env = edge_env(
        lab.base_url,
        EDGE_MODE="production",
        JWKS_URL=f"{lab.base_url}/.well-known/jwks.json",
    )
    yield from _started(edge_launcher, env, None)


@pytest.fixture(scope="session")
def origin_edge(edge_launcher: EdgeLauncher, origin: RunningOrigin) -> Iterator[EdgeUnderTest]:
    yield from _started(edge_launcher, edge_env(origin.base_url), None)


def _started(
    launcher: EdgeLauncher, env: Mapping[str, str], fixed_time: float | None
) -> Iterator[EdgeUnderTest]:
    with launcher.start(env) as url, httpx.Client(base_url=url, timeout=30.0) as client:
        yield EdgeUnderTest(url, client, launcher, fixed_time)


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> str:
    """A path segment no other test uses (the edges and their caches are shared)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.originalname)[:48]
    return f"{name}-{secrets.token_hex(4)}"
