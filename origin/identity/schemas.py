"""What the ``/auth`` routes and the JWKS take and answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from origin.fields import CONTROL_CHARACTERS, single_line
from origin.identity.models import EMAIL_MAX
from origin.identity.passwords import MAX_LENGTH as PASSWORD_MAX

# Deliberately loose (one @, a dot in the domain, no spaces or control characters): the only
# real check of an address is a message that arrives; stricter patterns refuse valid addresses.
_ADDRESS_PART = rf"[^@\s{CONTROL_CHARACTERS}]+"
EMAIL_PATTERN = rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$"
REFRESH_TOKEN_MAX = 128
SCOPE_MAX = 1000

Email = Annotated[str, StringConstraints(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN)]
# Passwords and tokens are taken as sent (never trimmed), but still refuse control characters.
Password = Annotated[str, single_line(min_length=1, max_length=PASSWORD_MAX, strip=False)]
RefreshTokenText = Annotated[
    str, single_line(min_length=1, max_length=REFRESH_TOKEN_MAX, strip=False)
]
SignInName = Annotated[str, single_line(min_length=1, max_length=EMAIL_MAX)]
Scope = Annotated[str, single_line(max_length=SCOPE_MAX)]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password


class RegisterAccepted(BaseModel):
    status: Literal["accepted"]
    message: str


class PasswordGrant(BaseModel):
    """RFC 6749 §4.3.2; ``username`` is the account's e-mail address."""

    model_config = ConfigDict(extra="forbid")

    grant_type: Literal["password"]
    username: SignInName
    password: Password
    scope: Scope | None = Field(default=None, description="accepted and ignored")


class RefreshGrant(BaseModel):
    """RFC 6749 §6; ``grant_type`` may be left out at ``/auth/refresh``."""

    model_config = ConfigDict(extra="forbid")

    grant_type: Literal["refresh_token"] = "refresh_token"
    refresh_token: RefreshTokenText
    scope: Scope | None = Field(default=None, description="accepted and ignored")


TokenRequest = Annotated[PasswordGrant | RefreshGrant, Field(discriminator="grant_type")]


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
