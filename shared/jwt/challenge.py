"""The uniform answer to a refused token: 401 with ``WWW-Authenticate: Bearer`` (RFC 6750 §3).

Whatever check failed, the client sees the same fixed text; the reason goes to the logs only.
"""

from __future__ import annotations

from typing import Any

from shared.errors import error_body

# The only descriptions ever sent: one fixed, detail-free text per RFC 6750 error code.
SAFE_DESCRIPTIONS = {
    "invalid_request": "The request is missing a required parameter or is malformed",
    "invalid_token": "The access token is invalid or has expired",
    "insufficient_scope": "The access token does not grant access to this resource",
}


def www_authenticate_header(
    error: str | None = "invalid_token",
    description: str | None = None,
    *,
    realm: str | None = None,
) -> str:
    """The ``WWW-Authenticate`` value; ``error=None`` for a request that sent no credentials.

    ``description`` is sent only if it is one of :data:`SAFE_DESCRIPTIONS`' texts; any other text
    (such as an exception message) is replaced by the fixed text for ``error``.
    """
    params = []
    if realm is not None:
        params.append(f'realm="{_quoted(realm)}"')
    if error is not None:
        if error not in SAFE_DESCRIPTIONS:
            raise ValueError(f"not an RFC 6750 error code: {error!r}")
        params.append(f'error="{error}"')
        safe = SAFE_DESCRIPTIONS[error]
        if description is not None and description in SAFE_DESCRIPTIONS.values():
            safe = description
        params.append(f'error_description="{safe}"')
    return "Bearer " + ", ".join(params) if params else "Bearer"


def invalid_token_body() -> dict[str, Any]:
    """The JSON error body that goes with a refused token."""
    return error_body("invalid_token", SAFE_DESCRIPTIONS["invalid_token"])


def _quoted(text: str) -> str:
    # RFC 6750 §3 quoted-string characters only; anything else is dropped, not escaped.
    return "".join(c for c in text if " " <= c <= "~" and c not in '"\\')
