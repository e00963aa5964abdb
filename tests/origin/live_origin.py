"""A real origin over HTTP with a real administrator and a real customer, for the tests that
check the origin as a client meets it (the API contract, who may call what).

The origin is ``origin.app.create_app`` on the default server (uvicorn) on a migrated, seeded
SQLite database (:func:`tests.edge.support.origin_server.running_origin`). The accounts are made
the way an operator makes them: both register through ``POST /auth/register``, the
administrator gets its role from ``outpost accounts grant``, and both sign in through
``POST /auth/token``.

Direct requests have no country the origin can trust (``XX``), so the geofence policy here
refuses only requests an edge placed in :data:`EMBARGOED` (a test signs such an assertion itself,
as the edge would); everything else reaches the endpoints.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.assertion import ASSERTION_HEADER, sign_assertion
from tests.edge.support.origin_server import (
    EDGE_KEY_ID,
    EDGE_SECRET,
    origin_settings,
    running_origin,
)

EMBARGOED = "KP"
POLICY = {
    "policy": "contract-test",
    "rules": [
        {
            "name": "embargoed",
            "effect": "deny",
            "from": {"countries": [EMBARGOED]},
            "description": "Refused from the embargoed country.",
        }
    ],
    "default": {"name": "elsewhere", "effect": "allow"},
}
SETTINGS = {
    "OUTPOST_GEOFENCE_POLICY": json.dumps(POLICY),
    # Fuzzers sign in and register far more often than people: no budget may run out mid-test.
    "OUTPOST_LOGIN_ATTEMPTS_PER_ACCOUNT": "1000000",
    "OUTPOST_LOGIN_ATTEMPTS_PER_ADDRESS": "1000000",
}


@dataclass(frozen=True)
class Account:
    email: str
    password: str


ADMIN = Account("admin@contract.test", "admin-password-for-the-contract")
CUSTOMER = Account("customer@contract.test", "customer-password-for-the-contract")


@dataclass(frozen=True)
class LiveOrigin:
    base_url: str
    database_url: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30.0)

    def register(self, account: Account) -> None:
        with self.client() as client:
            body = {"email": account.email, "password": account.password}
            response = client.post("/auth/register", json=body)
        assert response.status_code == 202, response.text

    def sign_in(self, account: Account) -> str:
        """A new session's access token."""
        form = {"grant_type": "password", "username": account.email, "password": account.password}
        with self.client() as client:
            response = client.post("/auth/token", data=form)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def grant(self, account: Account, *roles: str) -> None:
        """``outpost accounts grant``, as an operator runs it."""
        subprocess.run(  # noqa: S603 (the project's own command, fixed arguments)
            [sys.executable, "-m", "commands", "accounts", "grant", account.email, *roles],
            env={**os.environ, "DATABASE_URL": self.database_url},
            check=True,
            capture_output=True,
            timeout=120,
        )


def placed_in(country: str, method: str, path: str) -> dict[str, str]:
    """The headers of an edge that placed an anonymous caller in ``country`` (a bearer token
    sent beside it is then checked by the origin itself)."""
    return {
        ASSERTION_HEADER: sign_assertion(
            secret=EDGE_SECRET.encode(),
            key_id=EDGE_KEY_ID,
            method=method,
            path=path,
            subject=None,
            roles=(),
            country=country,
            issued_at=int(time.time()),
            nonce=secrets.token_urlsafe(16),
        )
    }


@contextlib.contextmanager
def live_origin(data_dir: Path) -> Iterator[LiveOrigin]:
    with running_origin(data_dir, SETTINGS) as origin:
        live = LiveOrigin(origin.base_url, origin_settings(data_dir)["DATABASE_URL"])
        live.register(ADMIN)
        live.register(CUSTOMER)
        live.grant(ADMIN, "admin")
        yield live
