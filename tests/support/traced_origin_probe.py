"""Run as a process of its own (tracing is set up once per process): build the origin from the
environment, send it a few requests over ASGI, flush the traces, and print one JSON line with
the statuses and the metrics. ``python -m tests.support.traced_origin_probe``."""

from __future__ import annotations

import asyncio
import json

import httpx

from origin.app import create_app
from origin.settings import Settings

PATHS = ("/api/products/1", "/api/products/1", "/api/products/2", "/healthz")


async def probe() -> dict[str, object]:
    app = create_app(Settings.from_env())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://origin.test") as client:
            statuses = [(await client.get(path)).status_code for path in PATHS]
            _flush_traces()
            # The route table keeps /metrics to administrators.
            admin = app.state.identity.mint(subject="operator", roles=["admin"], session_id=None)
            response = await client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
            metrics = response.text
    return {"statuses": statuses, "metrics": metrics}


def _flush_traces() -> None:
    try:
        from opentelemetry import trace
    except ImportError:
        return
    flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if flush is not None:
        flush(5000)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe())), flush=True)
