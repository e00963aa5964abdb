"""What the ``/auth`` routes and the JWKS take and answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from origin.identity.models import EMAIL_MAX
from origin.identity.passwords import MAX_LENGTH as PASSWORD_MAX

# Deliberately loose (one @, a dot in the domain, no spaces): the only real check of an address
# is a message that arrives; stricter patterns refuse valid addresses.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
REFRESH_TOKEN_MAX = 128

Email = Annotated[str, StringConstraints(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX)]
RefreshTokenText = Annotated[str, StringConstraints(min_length=1, max_length=REFRESH_TOKEN_MAX)]


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
    username: Annotated[str, StringConstraints(min_length=1, max_length=EMAIL_MAX)]
    password: Password
    scope: str | None = Field(default=None, max_length=1000, description="accepted and ignored")


class RefreshGrant(BaseModel):
    """RFC 6749 §6; ``grant_type`` may be left out at ``/auth/refresh``."""

    model_config = ConfigDict(extra="forbid")

    grant_type: Literal["refresh_token"] = "refresh_token"
    refresh_token: RefreshTokenText
    scope: str | None = Field(default=None, max_length=1000, description="accepted and ignored")


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
