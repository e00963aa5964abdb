"""Who is calling: resolved once per request, on demand, by the app's authenticator.

Who may call a route, and with which roles, is the route table's business (:mod:`origin.access`
enforces it before the endpoint runs); an endpoint that needs to know the caller calls
:func:`require_principal`. Public routes never pay for authentication: nothing runs until asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request

from origin.errors import ApiError
from origin.services import services
from shared.principal import Principal

_UNRESOLVED = object()
_VOUCHED_SCOPE_KEY = "outpost.vouched"
_PRINCIPAL_SCOPE_KEY = "outpost.principal"
_DEFERRED_SCOPE_KEY = "outpost.deferred_checks"


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


@dataclass(frozen=True, slots=True)
class DeferredCheck:
    """A check of the caller that needs one value from the store, left by the authenticator for
    the rate limiter's store call to read (one round trip for both, not two).

    With ``claim_ttl_seconds`` the key is also claimed in that call (written if it held nothing,
    for that long: an assertion's nonce is spent); what is read is what it held before.
    ``conclude`` is given what ``key`` holds (None: nothing, or the store did not answer) and
    whether the store answered that very call, and raises the refusal if the caller fails the
    check; it then also withdraws the principal. (Whether the call was answered comes with it:
    the store's health when the check concludes may already be another call's.)
    """

    key: str
    conclude: Callable[[bytes | None, bool], Awaitable[None]]
    claim_ttl_seconds: float | None = None


def offer_deferred_checks(request: Request) -> None:
    """Let the authenticator leave store reads to the caller (the rate limiter), who must then
    :func:`take_deferred_checks` and conclude each before anything else sees the principal."""
    request.scope[_DEFERRED_SCOPE_KEY] = []


def defer_check(request: Request, check: DeferredCheck) -> bool:
    """Leave ``check`` to the caller that offered; False (do it now) when nobody did."""
    pending = request.scope.get(_DEFERRED_SCOPE_KEY)
    if pending is None:
        return False
    pending.append(check)
    return True


def take_deferred_checks(request: Request) -> list[DeferredCheck]:
    """The checks left since :func:`offer_deferred_checks`; the offer ends here."""
    taken: list[DeferredCheck] = request.scope.pop(_DEFERRED_SCOPE_KEY, [])
    return taken


def withdraw_principal(request: Request, *, unvouch: bool = False) -> None:
    """Forget the resolved caller (a deferred check refused it): the next ask authenticates
    again, and the authenticator answers with the refusal it remembered. ``unvouch`` also
    forgets what the edge vouched for (the assertion itself was refused: a replay)."""
    request.scope.pop(_PRINCIPAL_SCOPE_KEY, None)
    if unvouch:
        request.scope.pop(_VOUCHED_SCOPE_KEY, None)


async def current_principal(request: Request) -> Principal | None:
    cached = request.scope.get(_PRINCIPAL_SCOPE_KEY, _UNRESOLVED)
    if cached is _UNRESOLVED:
        cached = await services(request).authenticator(request)
        request.scope[_PRINCIPAL_SCOPE_KEY] = cached
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
