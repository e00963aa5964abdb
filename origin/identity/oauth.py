"""The OAuth 2.0 token endpoint's request and error conventions (RFC 6749 §3.2, §5).

Requests come as ``application/x-www-form-urlencoded`` (what OAuth 2.0 clients send) or a JSON
object of strings (parsed by pydantic, as :mod:`origin.validation` explains); each parameter at
most once, and a handful of them at most. Errors carry RFC 6749's codes (``invalid_request``,
``invalid_grant``, ``unsupported_grant_type``) inside our usual ``{"error": {...}}`` body, and
nothing the endpoint answers may be cached.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request

from origin.errors import ApiError
from origin.validation import field_problems, malformed_json_reason

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
# RFC 6749's token requests have at most five parameters; a form of thousands is not one.
MAX_PARAMETERS = 16
_PARAMETERS: TypeAdapter[dict[str, str]] = TypeAdapter(dict[str, str])

GrantT = TypeVar("GrantT")


def oauth_error(code: str, message: str, *, status: int = 400, **details: Any) -> ApiError:
    return ApiError(status, code, message, headers=NO_STORE, **details)


def invalid_grant() -> ApiError:
    # One answer for an unknown account, a wrong password, and a bad refresh token alike.
    return oauth_error("invalid_grant", "the credentials or the refresh token are not valid")


async def read_parameters(request: Request) -> dict[str, str]:
    """The request's parameters from a form or a JSON object of strings."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type == FORM:
        form = await request.form(max_fields=MAX_PARAMETERS)
        items = list(form.multi_items())
        repeated = sorted({name for name, _ in items if len(form.getlist(name)) > 1})
        if repeated:
            raise oauth_error(
                "invalid_request", f"parameters may appear once: {', '.join(repeated)}"
            )
        return {name: value for name, value in items if isinstance(value, str)}
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            document = _PARAMETERS.validate_json(await request.body(), strict=True)
        except ValidationError as error:
            if malformed_json_reason(error) is not None:
                raise oauth_error("invalid_request", "the body is not valid JSON") from None
            raise oauth_error(
                "invalid_request", "send a JSON object of string parameters"
            ) from None
        if len(document) > MAX_PARAMETERS:
            raise oauth_error("invalid_request", f"send at most {MAX_PARAMETERS} parameters")
        return document
    raise ApiError(
        415,
        "unsupported_media_type",
        f"send the parameters as {FORM} or application/json",
        headers=NO_STORE,
    )


def parse_grant(
    parameters: dict[str, str], adapter: TypeAdapter[GrantT], grant_types: tuple[str, ...]
) -> GrantT:
    """Validate the parameters as one of ``grant_types``; RFC 6749 errors otherwise."""
    grant_type = parameters.get("grant_type")
    if grant_type is not None and grant_type not in grant_types:
        raise oauth_error(
            "unsupported_grant_type", f"grant_type must be one of: {', '.join(grant_types)}"
        )
    try:
        return adapter.validate_python(parameters)
    except ValidationError as error:
        raise oauth_error(
            "invalid_request", "a parameter is missing or not valid", fields=field_problems(error)
        ) from None
