"""The identity HTTP API: ``/.well-known/jwks.json`` and ``/auth/*``.

Registration answers the same ``202`` whether the address was free or taken (the same work is
done either way: the password is hashed, one insert runs), so it cannot be used to find out who
has an account. The owner of a taken address learns nothing new; a real app would e-mail the
address here ("welcome" or "someone tried to register with your address").
"""

from __future__ import annotations

import hashlib
import json
import logging

from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from origin.errors import ApiError
from origin.identity.accounts import (
    SUBJECT_PREFIX,
    find_account,
    find_login,
    normalise_email,
    replace_password_hash,
)
from origin.identity.accounts import register as register_account
from origin.identity.authenticator import keys_unavailable, session_id_of
from origin.identity.keys import KeyringError
from origin.identity.login_limits import spend_address_attempt, spend_login_attempt
from origin.identity.oauth import FORM, NO_STORE, invalid_grant, parse_grant, read_parameters
from origin.identity.passwords import (
    hash_password_off_loop,
    needs_rehash,
    policy_problems,
    verify_password_off_loop,
)
from origin.identity.schemas import (
    JsonWebKeySet,
    Me,
    PasswordGrant,
    RefreshGrant,
    RegisterAccepted,
    RegisterRequest,
    TokenRequest,
    TokenResponse,
)
from origin.identity.service import Identity, identity_of
from origin.identity.sessions import (
    LOGGED_OUT,
    IssuedSession,
    RefreshRefused,
    RefusalReason,
    open_session,
    rotate_refresh_token,
)
from origin.observability.openapi import JSON, Answer, ErrorBody, operation
from origin.principals import require_principal, whereabouts
from origin.validation import read_json

logger = logging.getLogger("outpost.origin.identity")

# Edge caches keep the key set for 5 minutes, and serve it stale for a day if the origin is down:
# verifying tokens at the edge must not depend on the origin answering.
JWKS_CACHE_CONTROL = (
    "public, max-age=300, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400"
)
ACCEPTED = RegisterAccepted(
    status="accepted",
    message="If this address had no account, it has one now: sign in at /auth/token.",
)
JWK_SET = "application/jwk-set+json"  # RFC 7517 §8.5.1
_TOKEN_REQUEST: TypeAdapter[PasswordGrant | RefreshGrant] = TypeAdapter(TokenRequest)
_REFRESH_REQUEST = TypeAdapter(RefreshGrant)


@operation(
    summary="The public keys that verify this origin's tokens",
    responses={
        200: Answer(JsonWebKeySet, media_type=JWK_SET),
        304: None,
        503: ErrorBody,
    },
    tags=["identity"],
)
async def jwks(request: Request) -> Response:
    """A JWK Set (RFC 7517) of the current and still-valid previous signing keys, with ``kid``,
    ``alg`` and ``use``; cacheable by the edge. Symmetric (HS256) keys are never published."""
    identity = identity_of(request)
    try:
        document = identity.keyring.keyring().jwks(identity.clock())
    except KeyringError:
        logger.exception("the signing keys cannot be read")
        raise keys_unavailable() from None
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"Cache-Control": JWKS_CACHE_CONTROL, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=JWK_SET, headers=headers)


@operation(
    summary="Create an account",
    request_body=RegisterRequest,
    responses={202: RegisterAccepted, 429: ErrorBody, 503: ErrorBody},
    tags=["identity"],
)
async def register(request: Request) -> Response:
    """Always 202 for a well-formed request, whether or not the address was already registered,
    so the answer does not reveal who has an account. 422 names a password-policy problem."""
    identity = identity_of(request)
    data = await read_json(request, RegisterRequest)
    email = normalise_email(data.email)
    problems = policy_problems(data.password, email=email)
    if problems:
        raise ApiError(
            422,
            "validation_failed",
            "the password does not meet the policy",
            fields=[{"field": "password", "message": problem} for problem in problems],
        )
    # Each registration costs a hash: it spends from the address's sign-in budget too.
    await spend_address_attempt(
        identity.running.store,
        address=await client_address(request),
        per_address=identity.settings.login_attempts_per_address,
    )
    password_hash = await hash_password_off_loop(data.password, identity.running.hashing)
    async with identity.running.sessions() as session:
        created = await register_account(
            session, email=email, password_hash=password_hash, now=identity.now()
        )
    logger.info("registration", extra={"account_created": created})
    return JSONResponse(ACCEPTED.model_dump(), status_code=202, headers=NO_STORE)


@operation(
    summary="Sign in, or exchange a refresh token (OAuth 2.0 token endpoint)",
    request_body=TokenRequest,
    request_media_types=(FORM, JSON),
    responses={200: TokenResponse, 400: ErrorBody, 429: ErrorBody, 503: ErrorBody},
    tags=["identity"],
)
async def token(request: Request) -> Response:
    """``grant_type=password`` (``username`` is the e-mail address) or
    ``grant_type=refresh_token``, as ``application/x-www-form-urlencoded`` or JSON. A wrong
    password and an unknown account get the same 400 ``invalid_grant``. Sign-in attempts are
    limited per account and per client address (429 with ``Retry-After``)."""
    grant = parse_grant(
        await read_parameters(request), _TOKEN_REQUEST, ("password", "refresh_token")
    )
    if isinstance(grant, PasswordGrant):
        return await _sign_in(request, grant)
    return await _refresh(request, grant)


@operation(
    summary="Exchange a refresh token for new tokens",
    request_body=RefreshGrant,
    request_media_types=(FORM, JSON),
    responses={200: TokenResponse, 400: ErrorBody, 503: ErrorBody},
    tags=["identity"],
)
async def refresh(request: Request) -> Response:
    """Rotation: the refresh token is spent and a new one comes back. A refresh token presented
    a second time revokes its whole session, access tokens included."""
    grant = parse_grant(await read_parameters(request), _REFRESH_REQUEST, ("refresh_token",))
    return await _refresh(request, grant)


@operation(
    summary="Sign out: revoke the session of the access token",
    responses={204: None, 400: ErrorBody, 503: ErrorBody},
    tags=["identity"],
)
async def logout(request: Request) -> Response:
    """The session's refresh token stops working and its access tokens are refused at once.
    400 for a token that belongs to no session (development or external tokens)."""
    await require_principal(request)
    session_id = session_id_of(request)
    if session_id is None:
        raise ApiError(
            400,
            "no_session",
            "this access token belongs to no session and cannot be revoked; it expires by itself",
        )
    await identity_of(request).running.revocations.revoke(session_id, reason=LOGGED_OUT)
    return Response(status_code=204, headers=NO_STORE)


@operation(summary="Who is calling", responses={200: Me, 503: ErrorBody}, tags=["identity"])
async def me(request: Request) -> Response:
    """The caller as the origin sees it: subject, roles, the country the edge vouched for, and
    the e-mail address when the subject is an account of this origin."""
    principal = await require_principal(request)
    email = None
    if principal.subject.startswith(SUBJECT_PREFIX):
        async with identity_of(request).running.sessions() as session:
            account = await find_account(session, principal.subject)
        email = account.email if account is not None else None
    body = Me(
        subject=principal.subject,
        roles=sorted(principal.roles),
        country=principal.country,
        email=email,
    )
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "private, no-store"})


async def _sign_in(request: Request, grant: PasswordGrant) -> Response:
    identity = identity_of(request)
    email = normalise_email(grant.username)
    await spend_login_attempt(
        identity.running.store,
        email=email,
        address=await client_address(request),
        per_account=identity.settings.login_attempts_per_account,
        per_address=identity.settings.login_attempts_per_address,
    )
    async with identity.running.sessions() as session:
        record = await find_login(session, email)
    # An unknown account is checked against a dummy hash: the same work, the same answer.
    matched = await verify_password_off_loop(
        record.password_hash if record is not None else None,
        grant.password,
        identity.running.hashing,
    )
    if record is None or not matched:
        logger.info("sign-in refused")
        raise invalid_grant()
    async with identity.running.sessions() as session:
        if needs_rehash(record.password_hash):
            rehashed = await hash_password_off_loop(grant.password, identity.running.hashing)
            await replace_password_hash(session, record.account.id, rehashed)
        issued = await open_session(
            session, record.account, now=identity.now(), refresh_ttl=identity.refresh_ttl
        )
    return _token_response(identity, issued)


async def _refresh(request: Request, grant: RefreshGrant) -> Response:
    identity = identity_of(request)
    try:
        async with identity.running.sessions() as session:
            issued = await rotate_refresh_token(
                session, grant.refresh_token, now=identity.now(), refresh_ttl=identity.refresh_ttl
            )
    except RefreshRefused as refused:
        if refused.reason is RefusalReason.REUSED and refused.session_id is not None:
            # The database revoked the session already; this refuses its access tokens too.
            await identity.running.revocations.mark(refused.session_id)
            logger.warning("refresh token reused: session revoked")
        else:
            logger.info("refresh refused", extra={"reason": refused.reason.value})
        raise invalid_grant() from None
    return _token_response(identity, issued)


def _token_response(identity: Identity, issued: IssuedSession) -> Response:
    try:
        access_token = identity.mint(
            subject=issued.account.subject,
            roles=issued.account.roles,
            session_id=issued.session_id,
        )
    except KeyringError:
        logger.exception("the signing keys cannot be read")
        raise keys_unavailable() from None
    body = TokenResponse(
        access_token=access_token,
        token_type="Bearer",  # noqa: S106  (the token type, not a secret)
        expires_in=identity.policy.access_ttl_seconds,
        refresh_token=issued.refresh_token,
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


async def client_address(request: Request) -> str:
    """The client's address as the edge vouched for it (else the connection's peer): behind an
    edge every connection comes from the edge, and a budget per proxy would let one client lock
    everyone out of signing in."""
    return (await whereabouts(request)).client


ROUTES = [
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    Route("/auth/register", register, methods=["POST"]),
    Route("/auth/token", token, methods=["POST"]),
    Route("/auth/refresh", refresh, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/me", me, methods=["GET"]),
]
