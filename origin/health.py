"""Liveness (``/healthz``) and readiness (``/readyz``) for orchestrators and load balancers.

Both are public, so they say whether each dependency answers and nothing else: why one does not
(its address, its error text, which could name a host, a port or a user) goes to the log only.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import BaseModel
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from origin.errors import error_response
from origin.observability.openapi import ErrorBody, operation
from origin.purge.outbox import oldest_age_for_readiness
from origin.services import services

logger = logging.getLogger("outpost.origin")

READINESS_TIMEOUT_SECONDS = 2.0
OK = "ok"
UNAVAILABLE = "unavailable"


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    # With Cloudflare purging on: how long the oldest undelivered purge has waited. Queued purges
    # never make the origin unready (a slow Cloudflare must not take it down).
    purge_queue_oldest_seconds: float | None = None


@operation(summary="Liveness", responses={200: Health}, tags=["operations"])
async def healthz(request: Request) -> Response:
    """The process is up and its event loop answers; says nothing about dependencies."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@operation(summary="Readiness", responses={200: Readiness, 503: ErrorBody}, tags=["operations"])
async def readyz(request: Request) -> Response:
    """Ready when the database and the key-value store answer; 503 naming what failed (by name
    only: ``{"cache": "unavailable"}``)."""
    found = services(request)
    checks = {"database": _check_database(request), "cache": found.store.check()}
    results = await asyncio.gather(
        *(asyncio.wait_for(check, READINESS_TIMEOUT_SECONDS) for check in checks.values()),
        return_exceptions=True,
    )
    states: dict[str, str] = {}
    for name, result in zip(checks, results, strict=True):
        if isinstance(result, BaseException):
            logger.warning("readiness: %s failed: %s: %s", name, type(result).__name__, result)
            states[name] = UNAVAILABLE
        else:
            states[name] = OK
    headers = {"Cache-Control": "no-store"}
    failed = [name for name, state in states.items() if state != OK]
    if failed:
        return error_response(
            503,
            "not_ready",
            "a dependency does not answer",
            headers,
            failed=failed,
            checks=states,
        )
    body: dict[str, object] = {"status": "ready", "checks": states}
    if found.settings.purge.enabled:
        body["purge_queue_oldest_seconds"] = await oldest_age_for_readiness(found.engine)
    return JSONResponse(body, headers=headers)


async def _check_database(request: Request) -> None:
    async with services(request).engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
