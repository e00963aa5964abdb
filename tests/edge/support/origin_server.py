"""The real origin app (``origin.app.create_app``) on a seeded SQLite database, on the default
server (uvicorn, as ``outpost origin`` runs it) on 127.0.0.1, configured to trust the test
edge's assertions and to sign with a test-only key."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.edge.support.threads import ServerThread, bound_socket
from tests.edge.support.tokens import AUDIENCE, ISSUER, test_keyring

EDGE_KEY_ID = "edge-test"
EDGE_SECRET = "edge-test-secret-only-for-the-test-suite-0123456789"


@dataclass(frozen=True)
class RunningOrigin:
    base_url: str


def origin_settings(data_dir: Path) -> dict[str, str]:
    return {
        "OUTPOST_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'edge-suite.db'}",
        "OUTPOST_JWT_ISSUER": ISSUER,
        "OUTPOST_JWT_AUDIENCE": AUDIENCE,
        "OUTPOST_SIGNING_KEYS": json.dumps(test_keyring()),
        "OUTPOST_EDGE_SECRETS": f"{EDGE_KEY_ID}:{EDGE_SECRET}",
        "OUTPOST_RATE_LIMIT_PER_MINUTE": "1000000",
        "OUTPOST_LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def running_origin(
    data_dir: Path, overrides: Mapping[str, str] | None = None
) -> Iterator[RunningOrigin]:
    """The origin, its settings :func:`origin_settings` with ``overrides`` (environment names)."""
    from origin.app import create_app
    from origin.cli.database import seed_database  # template:demo
    from origin.db.migrate import upgrade
    from origin.servers import uvicorn
    from origin.settings import Settings

    settings = Settings.from_mapping({**origin_settings(data_dir), **(overrides or {})})
    asyncio.run(upgrade(settings.database_url))
    asyncio.run(seed_database(settings.database_url))  # template:demo
    sock, port = bound_socket()

    async def run(stop: asyncio.Event) -> None:
        await uvicorn.serve_app(create_app(settings), settings, sock, stop.wait)

    thread = ServerThread(run, "origin")
    thread.start()
    try:
        yield RunningOrigin(f"http://127.0.0.1:{port}")
    finally:
        thread.stop()
