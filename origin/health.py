"""Liveness (``/healthz``) and readiness (``/readyz``) for orchestrators and load balancers."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from origin.errors import error_response
from origin.observability.openapi import ErrorBody, operation
from origin.purge.outbox import oldest_age_for_readiness
from origin.services import services

READINESS_TIMEOUT_SECONDS = 2.0


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
    """Ready when the database and the key-value store answer; 503 naming what failed."""
    found = services(request)
    checks = {"database": _check_database(request), "cache": found.store.check()}
    results = await asyncio.gather(
        *(asyncio.wait_for(check, READINESS_TIMEOUT_SECONDS) for check in checks.values()),
        return_exceptions=True,
    )
    failed = {
        name: f"{type(result).__name__}: {result}".rstrip(": ")
        for name, result in zip(checks, results, strict=True)
        if isinstance(result, BaseException)
    }
    headers = {"Cache-Control": "no-store"}
    if failed:
        return error_response(
            503, "not_ready", "a dependency does not answer", headers, failed=failed
        )
    body: dict[str, object] = {"status": "ready", "checks": dict.fromkeys(checks, "ok")}
    if found.settings.purge.enabled:
        body["purge_queue_oldest_seconds"] = await oldest_age_for_readiness(found.engine)
    return JSONResponse(body, headers=headers)


async def _check_database(request: Request) -> None:
    async with services(request).engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
