"""Real access tokens for the load test, never hard-coded ones.

Either the tokens come in ``LOADTEST_TOKENS`` (comma-separated; ``outpost bench`` mints them with
``outpost token``, or logs in against a deployment), or each Locust process registers one account
at the target and signs in through ``/auth/token`` (``LOADTEST_EMAIL`` / ``LOADTEST_PASSWORD``
choose the account; by default a fresh random one).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

TOKENS_VARIABLE = "LOADTEST_TOKENS"


class TokenUnavailable(RuntimeError):
    """The target did not hand out a token; the load test cannot act as a signed-in user."""


def tokens_from_env(environ: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(part.strip() for part in environ.get(TOKENS_VARIABLE, "").split(",") if part)


def pick_token(tokens: tuple[str, ...], user_number: int) -> str:
    """Spread users over the given tokens (so over subjects: per-subject limits are shared)."""
    return tokens[user_number % len(tokens)]


def tampered(token: str) -> str:
    """The token with one character of its signature changed: well formed, signed by no key.

    The changed character is in the middle of the signature, where every base64url character
    carries six bits of it (the last one may carry padding bits that decoders ignore).
    """
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    return f"{header}.{payload}.{signature[:middle]}{replacement}{signature[middle + 1 :]}"


def sign_in(client: Any, environ: Mapping[str, str] | None = None) -> str:
    """Register an account at the target (idempotent there: 202 either way) and sign in.

    ``client`` is a Locust HTTP session; these requests are named ``setup: ...`` so that the
    report keeps them out of the scenarios' figures.
    """
    env = os.environ if environ is None else environ
    email = env.get("LOADTEST_EMAIL") or f"loadtest-{secrets.token_hex(6)}@example.com"
    password = env.get("LOADTEST_PASSWORD") or secrets.token_urlsafe(18)
    client.post(
        "/auth/register",
        json={"email": email, "password": password},
        name="setup: register",
    )
    response = client.post(
        "/auth/token",
        data=urlencode({"grant_type": "password", "username": email, "password": password}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        name="setup: sign in",
    )
    if response.status_code != 200:
        raise TokenUnavailable(f"/auth/token answered {response.status_code}: {response.text}")
    token: str = response.json()["access_token"]
    return token
