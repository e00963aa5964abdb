"""The ``.env`` of a new app: development secrets of its own, never the template's.

The origin and the edge must share the assertion secret; both read it from here in development
(the origin reads ``.env``; the CPython edge gets it from the environment ``dev`` passes on).
The token signing keyring is not here: ``dev`` (or ``keys generate``) creates it on first use.
"""

from __future__ import annotations

from collections.abc import Callable

from templating.names import AppName

SECRET_BYTES = 32
EDGE_KEY_ID = "dev"


def development_env(name: AppName, new_secret: Callable[[int], str]) -> str:
    """The ``.env`` text; ``new_secret(n)`` returns a fresh random string of ``n`` bytes'
    entropy (``secrets.token_urlsafe`` in use, something predictable in tests)."""
    edge_secret = new_secret(SECRET_BYTES)
    return (
        f"# Development settings of {name.slug}: generated for this copy only, never commit\n"
        "# (.gitignore excludes it). Production takes real values from its own environment.\n"
        f"{name.upper}_EDGE_SECRETS={EDGE_KEY_ID}:{edge_secret}\n"
        f"EDGE_ASSERTION_KEY_ID={EDGE_KEY_ID}\n"
        f"EDGE_ASSERTION_SECRET={edge_secret}\n"
    )
