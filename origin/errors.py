"""Errors a client can cause, and the handlers that turn every exception into the JSON error body.

Route code raises :class:`ApiError` (or a subclass); nothing else decides what an error looks
like. Unexpected exceptions become a 500 with the request id and no details; the traceback goes
to the log only.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from origin.kv import StoreUnavailable
from shared.errors import error_body

logger = logging.getLogger("outpost.origin")

# Codes for the statuses Starlette's router raises on its own (unknown route, wrong method).
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    451: "unavailable_for_legal_reasons",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}


class ApiError(Exception):
    """An error answered to the client as ``{"error": {"code", "message", ...}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = details

    def to_response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.headers, **self.details)


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **details: Any,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, **details), status_code=status, headers=headers)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.to_response()


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), exc.headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id")
    logger.exception("unhandled error", extra={"request_id": request_id})
    return error_response(
        500, "internal_error", "the server failed to handle this request", request_id=request_id
    )


# SQLSTATE classes of a server going away or not there yet: 08 connection exception, 57 operator
# intervention (57P01 admin_shutdown during a restart or failover, 57P03 cannot_connect_now while
# it starts up). PostgreSQL drivers report these as generic DBAPI errors, not OperationalError.
_UNREACHABLE_SQLSTATE_CLASSES = frozenset({"08", "57"})
_DISK_FULL_SQLSTATE = "53100"
STORAGE_FULL_RETRY_AFTER_SECONDS = 30


def _storage_full(exc: DBAPIError) -> bool:
    """SQLite's SQLITE_FULL or PostgreSQL's disk_full: the disk, not the request, is at fault."""
    driver_error = exc.orig
    return (
        getattr(driver_error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or getattr(driver_error, "sqlstate", None) == _DISK_FULL_SQLSTATE
    )


def _database_unreachable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return exc.connection_invalidated or (
        isinstance(sqlstate, str) and sqlstate[:2] in _UNREACHABLE_SQLSTATE_CLASSES
    )


async def handle_database_error(request: Request, exc: Exception) -> Response:
    """A driver error that is not a constraint: storage full and an unreachable or busy database
    are retryable 503s; any other is a bug in our SQL, a 500."""
    assert isinstance(exc, DBAPIError)
    if _storage_full(exc):
        logger.error("database storage is full; writes are refused", exc_info=exc)
        return error_response(
            503,
            "storage_full",
            "the server cannot store more data right now; retry later",
            {"Retry-After": str(STORAGE_FULL_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, OperationalError) or _database_unreachable(exc):
        return await handle_database_unavailable(request, exc)
    return await handle_unexpected(request, exc)


async def handle_database_unavailable(request: Request, exc: Exception) -> Response:
    """The database refused or dropped the connection, or a lock wait timed out: retryable."""
    logger.warning("database unavailable: %s", exc.__class__.__name__, exc_info=exc)
    return error_response(
        503,
        "database_unavailable",
        "the database is busy or unreachable; retry shortly",
        {"Retry-After": "1"},
    )


async def handle_conflict(request: Request, exc: Exception) -> Response:
    """The database refused a write for the state the data is in: a unique or foreign key
    constraint that a racing request got to first. Route code turns the conflicts it expects
    into precise errors (a duplicate SKU: 409 ``duplicate_sku``); this answers the rest, so a
    conflict is a 409 and never a 500. The constraint's text stays in the log: it quotes values."""
    logger.warning("a database constraint refused a write", exc_info=exc)
    message = "the request conflicts with the current state of the data; reload it and retry"
    return error_response(409, "conflict", message)


async def handle_store_unavailable(request: Request, exc: Exception) -> Response:
    """Only operations that must not silently fail raise this (revocations, nonces)."""
    logger.warning("key-value store unavailable: %s", exc)
    return error_response(
        503, "unavailable", "a dependency is unavailable; retry shortly", {"Retry-After": "1"}
    )


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    StoreUnavailable: handle_store_unavailable,
    DBAPIError: handle_database_error,  # OperationalError included; IntegrityError is below
    IntegrityError: handle_conflict,
    ConnectionError: handle_database_unavailable,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
