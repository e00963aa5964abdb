"""Claim checks (RFC 7519 §4.1) with the time passed in, and the claims-to-principal helpers.

Run only after the signature holds: before that, claims are an attacker's text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.jwt.errors import TokenErrorReason, TokenInvalid
from shared.jwt.policy import VerificationPolicy
from shared.principal import Principal

# 9999-12-31T23:59:59Z: beyond it a date is a mistake or an attack, not a real expiry.
MAX_NUMERIC_DATE = 253_402_300_799
MAX_SUBJECT_LENGTH = 255
MAX_ROLES = 64
MAX_ROLE_LENGTH = 64
MAX_SESSION_ID_LENGTH = 128
# A session id travels in the edge's assertion and keys the revocation list: printable ASCII.
SESSION_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_SESSION_ID_LENGTH}}}")

_ABSENT: Any = object()


@dataclass(frozen=True, slots=True)
class ValidatedClaims:
    subject: str
    roles: frozenset[str]
    issuer: str
    expires_at: float
    session_id: str | None = None


def check_claims(
    claims: Mapping[str, Any], policy: VerificationPolicy, now: float
) -> ValidatedClaims:
    """Check times (with leeway), issuer, audience, subject, roles and session, in that order."""
    leeway = policy.leeway_seconds
    expires_at = numeric_date(claims, "exp")
    if expires_at is None:
        raise TokenInvalid(TokenErrorReason.MISSING_EXPIRY, "exp is required")
    if now >= expires_at + leeway:
        raise TokenInvalid(TokenErrorReason.EXPIRED, "the token has expired")
    not_before = numeric_date(claims, "nbf")
    if not_before is not None and not_before > now + leeway:
        raise TokenInvalid(TokenErrorReason.NOT_YET_VALID, "the token is not valid yet")
    issued_at = numeric_date(claims, "iat")
    if issued_at is not None and issued_at > now + leeway:
        raise TokenInvalid(TokenErrorReason.ISSUED_IN_FUTURE, "iat is in the future")
    if claims.get("iss") != policy.issuer:
        raise TokenInvalid(TokenErrorReason.WRONG_ISSUER, "iss is not the expected issuer")
    _check_audience(claims.get("aud", _ABSENT), policy.audience)
    return ValidatedClaims(
        subject=subject_from_claims(claims),
        roles=roles_from_claims(claims),
        issuer=policy.issuer,
        expires_at=expires_at,
        session_id=session_id_from_claims(claims),
    )


def numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    """A NumericDate claim as a number, ``None`` when absent; bools, strings and nulls refused."""
    value = claims.get(name, _ABSENT)
    if value is _ABSENT:
        return None
    # type() rather than isinstance(): True is an int to Python, but not a date.
    if type(value) is not int and type(value) is not float:
        raise TokenInvalid(TokenErrorReason.INVALID_CLAIM, f"{name} must be a number")
    if not 0 <= value <= MAX_NUMERIC_DATE:
        raise TokenInvalid(TokenErrorReason.INVALID_CLAIM, f"{name} is out of range")
    return value


def _check_audience(audience: Any, expected: str) -> None:
    if isinstance(audience, str):
        accepted = audience == expected
    elif isinstance(audience, list):
        if not all(isinstance(item, str) for item in audience):
            raise TokenInvalid(TokenErrorReason.INVALID_CLAIM, "aud must hold strings only")
        accepted = expected in audience
    elif audience is _ABSENT:
        accepted = False
    else:
        raise TokenInvalid(TokenErrorReason.INVALID_CLAIM, "aud must be a string or a list")
    if not accepted:
        raise TokenInvalid(TokenErrorReason.WRONG_AUDIENCE, "aud does not name this audience")


def subject_from_claims(claims: Mapping[str, Any]) -> str:
    subject = claims.get("sub")
    if subject is None or subject == "":
        raise TokenInvalid(TokenErrorReason.MISSING_SUBJECT, "sub is required")
    if not isinstance(subject, str) or len(subject) > MAX_SUBJECT_LENGTH:
        raise TokenInvalid(TokenErrorReason.INVALID_CLAIM, "sub must be a short string")
    return subject


def roles_from_claims(claims: Mapping[str, Any]) -> frozenset[str]:
    """The ``roles`` claim: a list of strings; absent means no roles."""
    roles = claims.get("roles", _ABSENT)
    if roles is _ABSENT:
        return frozenset()
    # A bare string is refused rather than iterated: "admin" must not become {"a", "d", ...}.
    if not isinstance(roles, list) or len(roles) > MAX_ROLES:
        raise TokenInvalid(TokenErrorReason.INVALID_CLAIM, "roles must be a short list")
    for role in roles:
        if not isinstance(role, str) or not 0 < len(role) <= MAX_ROLE_LENGTH:
            raise TokenInvalid(TokenErrorReason.INVALID_CLAIM, "roles must be short strings")
    return frozenset(roles)


def session_id_from_claims(claims: Mapping[str, Any]) -> str | None:
    """The ``sid`` claim (the session a token belongs to, for revocation); absent means none.

    A present but ill-formed one refuses the token: a session that cannot be looked up must not
    pass as "no session", or the token would escape revocation.
    """
    session_id = claims.get("sid", _ABSENT)
    if session_id is _ABSENT:
        return None
    if not isinstance(session_id, str) or SESSION_ID.fullmatch(session_id) is None:
        raise TokenInvalid(TokenErrorReason.INVALID_CLAIM, "sid must be a short printable string")
    return session_id


def principal_from_claims(claims: Mapping[str, Any], country: str | None = None) -> Principal:
    """The caller a set of (already verified) claims describes."""
    return Principal(
        subject=subject_from_claims(claims), roles=roles_from_claims(claims), country=country
    )
