"""JOSE header checks against the policy (RFC 7515 §4.1), before any key is looked up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.jwt.errors import TokenErrorReason, TokenInvalid
from shared.jwt.policy import VerificationPolicy


def check_header(header: Mapping[str, Any], policy: VerificationPolicy) -> tuple[str, str]:
    """Return ``(alg, kid)`` once the header is acceptable.

    ``jwk``, ``jku``, ``x5u`` and ``x5c`` are ignored on purpose: keys come from the configured
    key set only, never from the token that wants to be verified with them.
    """
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise TokenInvalid(TokenErrorReason.INVALID_HEADER, "alg must be a string")
    if alg not in policy.algorithms:  # "none" never is: the policy refuses it
        raise TokenInvalid(TokenErrorReason.ALG_NOT_ALLOWED, "alg is not allowed")
    if "crit" in header:
        # We understand no extension, so any crit (even an empty one, which RFC 7515 forbids)
        # names something we would have to honour and cannot.
        raise TokenInvalid(TokenErrorReason.CRIT_UNSUPPORTED, "crit extensions are not supported")
    typ = header.get("typ")
    if typ is not None:
        if not isinstance(typ, str):
            raise TokenInvalid(TokenErrorReason.INVALID_HEADER, "typ must be a string")
        if _media_type(typ) not in policy.token_types:
            raise TokenInvalid(TokenErrorReason.TYP_UNSUPPORTED, "typ is not an accepted type")
    kid = header.get("kid")
    if kid is None:
        raise TokenInvalid(TokenErrorReason.KID_MISSING, "kid is required")
    if not isinstance(kid, str):
        raise TokenInvalid(TokenErrorReason.INVALID_HEADER, "kid must be a string")
    return alg, kid


def _media_type(typ: str) -> str:
    lowered = typ.lower()
    return lowered[12:] if lowered.startswith("application/") else lowered
