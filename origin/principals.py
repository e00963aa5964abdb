"""Who is calling: resolved once per request, on demand, by the app's authenticator.

Who may call a route, and with which roles, is the route table's business (:mod:`origin.access`
enforces it before the endpoint runs); an endpoint that needs to know the caller calls
:func:`require_principal`. Public routes never pay for authentication: nothing runs until asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from origin.errors import ApiError
from origin.services import services
from shared.principal import Principal

_UNRESOLVED = object()
_VOUCHED_SCOPE_KEY = "outpost.vouched"


@dataclass(frozen=True, slots=True)
class Vouched:
    """What the edge vouched for in a valid assertion, whoever the caller is (even anonymous)."""

    country: str | None
    client: str | None


@dataclass(frozen=True, slots=True)
class Whereabouts:
    """Where a request comes from, as far as the origin can trust it.

    ``country`` is None when no trusted party established it (a direct request: the geofence
    treats it as unknown); ``client`` is the edge-reported address, else the connection's peer.
    """

    country: str | None
    client: str


def vouch(request: Request, vouched: Vouched) -> None:
    """Record what a verified edge assertion established (called by the authenticator)."""
    request.scope[_VOUCHED_SCOPE_KEY] = vouched


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


async def whereabouts(request: Request) -> Whereabouts:
    """Where the request comes from. A bad credential counts as no credential here: the route
    that needs one answers 401 itself."""
    try:
        principal = await current_principal(request)
    except ApiError:
        principal = None
    vouched = request.scope.get(_VOUCHED_SCOPE_KEY)
    assert vouched is None or isinstance(vouched, Vouched)
    if principal is not None:
        country = principal.country
    else:
        country = vouched.country if vouched is not None else None
    if vouched is not None and vouched.client:
        client = vouched.client
    else:
        client = request.client.host if request.client else "unknown"
    return Whereabouts(country=country, client=client)


async def anonymous(request: Request) -> Principal | None:
    """The authenticator that recognises nobody."""
    return None
