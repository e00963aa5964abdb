"""What the ``/auth`` routes and the JWKS take and answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from origin.fields import CONTROL_CHARACTERS, single_line
from origin.identity.models import EMAIL_MAX
from origin.identity.passwords import MAX_LENGTH as PASSWORD_MAX
from origin.identity.passwords import MIN_DISTINCT_CHARACTERS, MIN_LENGTH
from origin.observability.openapi import not_null

# Deliberately loose (one @, a dot in the domain, no spaces or control characters): the only
# real check of an address is a message that arrives; stricter patterns refuse valid addresses.
# Whitespace spelled out rather than ``\s``: Python's and JSON Schema's (ECMA-262) ``\s`` differ
# (U+FEFF, U+001C-U+001F), and the document must refuse exactly what the server refuses.
_WHITESPACE = r" \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_ADDRESS_PART = rf"[^@{_WHITESPACE}{CONTROL_CHARACTERS}]+"
EMAIL_PATTERN = rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$"
REFRESH_TOKEN_MAX = 128
SCOPE_MAX = 1000

Email = Annotated[str, StringConstraints(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN)]
# Passwords and tokens are taken as sent (never trimmed), but still refuse control characters.
Password = Annotated[str, single_line(min_length=1, max_length=PASSWORD_MAX, strip=False)]
# A new password: the policy's length here (so the OpenAPI document states it), the rest of it
# (origin.identity.passwords.policy_problems) in words, since JSON Schema cannot express it.
NewPassword = Annotated[
    str,
    single_line(min_length=MIN_LENGTH, max_length=PASSWORD_MAX, strip=False),
    Field(
        description=f"{MIN_LENGTH} to {PASSWORD_MAX} characters, at least "
        f"{MIN_DISTINCT_CHARACTERS} of them different, not containing the e-mail address"
    ),
]
RefreshTokenText = Annotated[
    str, single_line(min_length=1, max_length=REFRESH_TOKEN_MAX, strip=False)
]
SignInName = Annotated[str, single_line(min_length=1, max_length=EMAIL_MAX)]
# OAuth parameters are strings (a form's are): ``scope`` may be left out, not sent as null.
Scope = Annotated[
    str | None,
    single_line(max_length=SCOPE_MAX),
    Field(description="accepted and ignored", json_schema_extra=not_null),
]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: NewPassword


class RegisterAccepted(BaseModel):
    status: Literal["accepted"]
    message: str


class PasswordGrant(BaseModel):
    """RFC 6749 §4.3.2; ``username`` is the account's e-mail address."""

    model_config = ConfigDict(extra="forbid")

    grant_type: Literal["password"]
    username: SignInName
    password: Password
    scope: Scope = None


class RefreshGrant(BaseModel):
    """RFC 6749 §6; ``grant_type`` may be left out at ``/auth/refresh``."""

    model_config = ConfigDict(extra="forbid")

    grant_type: Literal["refresh_token"] = "refresh_token"
    refresh_token: RefreshTokenText
    scope: Scope = None


class TokenRefreshGrant(RefreshGrant):
    """RFC 6749 §6 at the token endpoint, where ``grant_type`` says which grant this is."""

    grant_type: Literal["refresh_token"]


TokenRequest = Annotated[PasswordGrant | TokenRefreshGrant, Field(discriminator="grant_type")]


class TokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    refresh_token: str


class Me(BaseModel):
    subject: str
    roles: list[str]
    country: str | None
    email: str | None


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, Any]]
