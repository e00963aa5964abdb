# template:demo-only
"""The origins the throughput benchmarks measure: seeded databases, and one ``outpost origin``
process per variant, each on its own port, all on one Redis namespace, stopped when done.

    with databases(scratch) as urls, running_origins(environments, scratch) as served:
        served["cached"].base  # http://127.0.0.1:<port>

Every origin is measured on the request path, not the limiter saying no (the rate limit is
raised out of wrk's reach; its script still runs on every request) and without its access log
(``OUTPOST_LOG_LEVEL=WARNING``).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple, TypeVar

from scratch_postgres import fresh_database

from loadtest.bench.processes import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

Key = TypeVar("Key")


class Origin(NamedTuple):
    base: str
    process: subprocess.Popen[bytes]


def origin_environment(
    database_url: str, *, response_cache: bool, inherited: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """The environment of one measured origin: ``inherited`` plus the database, Redis and the
    settings every measurement shares (the port and the Redis prefix are added at start)."""
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "OUTPOST_RESPONSE_CACHE": "on" if response_cache else "off",
        "OUTPOST_RATE_LIMIT_PER_MINUTE": "1000000000",
        "OUTPOST_LOG_LEVEL": "WARNING",
    }


@contextmanager
def running_origins(
    environments: Mapping[Key, Mapping[str, str]], scratch: Path, *, timeout: float = 30.0
) -> Iterator[dict[Key, Origin]]:
    """Start one origin per environment, wait until all answer ``/healthz``, stop them at the end.

    Each one's output goes to ``scratch/origin-<port>.log``."""
    prefix = f"outpost-bench:{secrets.token_hex(4)}:"
    started: dict[Key, Origin] = {}
    try:
        for key, environment in environments.items():
            port = free_port()
            log = (scratch / f"origin-{port}.log").open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "commands", "origin"],
                env={**environment, "OUTPOST_PORT": str(port), "OUTPOST_REDIS_PREFIX": prefix},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started[key] = Origin(f"http://127.0.0.1:{port}", process)
        for origin in started.values():
            wait_until_healthy(origin.base, timeout)
        yield started
    finally:
        for origin in started.values():
            origin.process.terminate()
        for origin in started.values():
            origin.process.wait(timeout=30)


def wait_until_healthy(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"origin at {base} did not become healthy")


@contextmanager
def databases(scratch: Path) -> Iterator[dict[str, str]]:
    """A seeded SQLite file and a seeded, temporary PostgreSQL database."""
    with fresh_database(f"outpost_bench_{secrets.token_hex(4)}") as postgres_url:
        urls = {"sqlite": f"sqlite:///{scratch / 'bench.db'}", "postgres": postgres_url}
        for url in urls.values():
            for verb in (["db", "upgrade"], ["db", "seed"]):
                subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
                    [sys.executable, "-m", "commands", *verb],
                    env={**os.environ, "DATABASE_URL": url},
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
        yield urls
