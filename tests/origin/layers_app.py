"""A small app of its own for the generic layers (``origin.http_cache``, ``origin.idempotency``).

It is not the demo: its routes use the layers the way any app's routes would, on real services
(a migrated database, Redis), so an app made without the demo still has these layers tested.

- ``GET /things``: a cached read tagged ``things``; ``?missing=1`` makes the producer fail
  with a 404.
- ``POST /things``: a write that invalidates ``things``; ``X-Fail: 1`` makes it fail midway.
- ``POST /jobs``: an idempotent write keyed by ``Idempotency-Key``; the JSON body is the
  request's fingerprint, ``{"fail": true}`` answers 400, and while ``hold`` is set the run
  waits for ``release``.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import sqlalchemy as sa
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from origin.db.engine import create_engine, session_factory
from origin.errors import EXCEPTION_HANDLERS, ApiError
from origin.http_cache import CachePolicy, cached_json, invalidating
from origin.idempotency import idempotent
from origin.kv import open_store
from origin.observability.metrics import Registry
from origin.observability.origin_metrics import OriginMetrics
from origin.services import Services
from origin.settings import Settings

POLICY = CachePolicy(s_maxage=120, stale_while_revalidate=10, stale_if_error=300)
THINGS_TAG = "things"


@dataclass
class Counts:
    """How often the app really did the work (a cached or replayed answer does not count)."""

    produced: int = 0
    jobs_run: int = 0
    hold: bool = False
    started: anyio.Event = field(default_factory=anyio.Event)
    release: anyio.Event = field(default_factory=anyio.Event)


async def read_things(request: Request) -> Response:
    counts: Counts = request.app.state.counts

    async def produce() -> dict[str, object]:
        if request.query_params.get("missing"):
            raise ApiError(404, "not_found", "no such things")
        counts.produced += 1
        return {"things": ["a", "b"], "rendering": counts.produced}

    return await cached_json(request, tags=[THINGS_TAG], policy=POLICY, produce=produce)


async def write_things(request: Request) -> Response:
    async with invalidating(request, [THINGS_TAG]) as write:
        assert (await write.session.exec(select(sa.literal(1)))).one() == 1
        if request.headers.get("x-fail"):
            raise ApiError(409, "conflict", "the write failed")
        await write.session.commit()
    return JSONResponse({"written": True}, headers=write.headers)


async def run_job(request: Request) -> Response:
    counts: Counts = request.app.state.counts
    body = await request.body()

    async def run() -> Response:
        counts.jobs_run += 1
        if counts.hold:
            counts.started.set()
            await counts.release.wait()
        if b'"fail"' in body:
            return JSONResponse({"error": "bad job"}, status_code=400)
        return JSONResponse(
            {"job": counts.jobs_run}, status_code=201, headers={"Location": "/jobs/1"}
        )

    return await idempotent(
        request,
        owner="someone",
        key=request.headers["idempotency-key"],
        fingerprint=hashlib.sha256(body).hexdigest(),
        run=run,
    )


@asynccontextmanager
async def layers_app(
    database_url: str, redis_url: str, *, prefix: str, settings: Settings | None = None
) -> AsyncIterator[Starlette]:
    """The app with its services on ``database_url`` (migrated) and Redis at ``redis_url``."""
    settings = settings or Settings.from_mapping({"DATABASE_URL": database_url})
    engine = create_engine(settings.database_url)
    store = open_store(redis_url, prefix=prefix)
    app = Starlette(
        routes=[
            Route("/things", read_things, methods=["GET"]),
            Route("/things", write_things, methods=["POST"]),
            Route("/jobs", run_job, methods=["POST"]),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    app.state.counts = Counts()
    app.state.services = Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        store=store,
        authenticator=_nobody,
        metrics=OriginMetrics(Registry()),
    )
    try:
        yield app
    finally:
        await store.aclose()
        await engine.dispose()


def counts(app: Starlette) -> Counts:
    """What the app's handlers have done so far."""
    found: Counts = app.state.counts
    return found


async def _nobody(request: Request) -> None:
    return None
