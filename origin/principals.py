"""Who is calling: resolved once per request, on demand, by the app's authenticator.

Routes that need a caller call :func:`require_principal` (401 when there is none) or
:func:`require_role` (403 when the caller lacks the role). Public routes never pay for
authentication because nothing runs until a route asks.
"""

from __future__ import annotations

from starlette.requests import Request

from origin.errors import ApiError
from origin.services import services
from shared.principal import Principal

_UNRESOLVED = object()


async def current_principal(request: Request) -> Principal | None:
    cached = request.scope.get("outpost.principal", _UNRESOLVED)
    if cached is _UNRESOLVED:
        cached = await services(request).authenticator(request)
        request.scope["outpost.principal"] = cached
    assert cached is None or isinstance(cached, Principal)
    return cached


async def require_principal(request: Request) -> Principal:
    principal = await current_principal(request)
    if principal is None:
        raise ApiError(
            401,
            "unauthorized",
            "this route needs an authenticated caller",
            headers={"WWW-Authenticate": 'Bearer realm="outpost"'},
        )
    return principal


async def require_role(request: Request, role: str) -> Principal:
    principal = await require_principal(request)
    if not principal.has_role(role):
        raise ApiError(403, "forbidden", f"this route needs the {role!r} role")
    return principal


async def anonymous(request: Request) -> Principal | None:
    """The authenticator that recognises nobody."""
    return None
