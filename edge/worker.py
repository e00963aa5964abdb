"""The Cloudflare Python Worker entry (``main`` in wrangler.toml): adapts, runs the pipeline.

Cloudflare imports this file as the top-level module ``worker``, so project code is imported
absolutely (``from edge.x import y``), never relatively, and nothing imports ``worker``.

An isolate serves many requests, one after another and concurrently, for minutes or hours; each
request gets a new ``Default`` instance. So the pipeline (configuration, the JWKS it fetched,
imported CryptoKeys) is built once per isolate, on the first request, from ``self.env`` (the
wrangler.toml vars and the secrets): module state, not instance state. What belongs to one
request (``ctx`` for waitUntil, ``request.cf``) is bound per request by ``request_scope``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import js  # type: ignore[import-not-found]
from pyodide.ffi import JsProxy, to_js  # type: ignore[import-not-found]
from workers import WorkerEntrypoint  # type: ignore[import-not-found]

from edge.config import ConfigError, EdgeConfig
from edge.http import EdgeRequest, EdgeResponse, Headers
from edge.pipeline import EdgePipeline
from edge.runtime.workers.mapping import location_from_cf, target_of_url
from edge.runtime.workers.runtime import (
    header_pairs,
    js_headers,
    pyodide_runtime,
    read_body,
    request_scope,
)
from shared.assertion import valid_address
from shared.errors import error_body
from shared.geofence import Location, location_of_country

logger = logging.getLogger("outpost.edge")

_NULL_BODY_STATUSES = frozenset({101, 204, 205, 304})
_NO_REQUEST_BODY = frozenset({"GET", "HEAD"})
_pipeline: EdgePipeline | None = None


def env_values(env: Any) -> dict[str, str]:
    """The bindings as strings. Structured [vars] (TOML tables) arrive as JS objects and are
    passed on as JSON, which is how the edge's settings take structured values."""
    raw = getattr(env, "_env", env)  # the SDK wraps env; its bindings live on the JS object
    values: dict[str, str] = {}
    for name, value in js.Object.entries(raw).to_py(depth=2):
        if isinstance(value, str):
            values[str(name)] = value
        elif isinstance(value, JsProxy):
            values[str(name)] = str(js.JSON.stringify(value))
        elif value is not None:
            values[str(name)] = json.dumps(value) if isinstance(value, bool) else str(value)
    return values


def pipeline_for(env: Any) -> EdgePipeline:
    global _pipeline
    if _pipeline is None:
        values = env_values(env)
        config = EdgeConfig.from_env(values)
        runtime = pyodide_runtime(
            config, cache=js.caches.default, cache_key_host=values.get("EDGE_CACHE_KEY_HOST")
        )
        _pipeline = EdgePipeline(config, runtime)
    return _pipeline


def cf_text(cf: Any, field: str) -> str | None:
    """A ``request.cf`` field as text; absent, ``undefined`` and ``null`` (``jsnull``) are None."""
    value = getattr(cf, field, None) if cf is not None else None
    return value if isinstance(value, str) else None


def client_location(js_request: Any, headers: Headers, config: EdgeConfig) -> Location:
    """Where the client is. Production: ``request.cf`` only, Cloudflare's geolocation of the
    client's address. Local mode (development and tests, never deployed): ``CF-IPCountry``
    alone, as on the CPython edge; ``request.cf`` is not read, because off Cloudflare it is a
    placeholder (``wrangler dev`` offline always says ``US``, which would place a request sent
    "from KP" in the US)."""
    if config.is_local:
        country = headers.get("cf-ipcountry")
        return location_of_country(country.strip().upper() if country else None)
    cf = js_request.cf
    country = cf_text(cf, "country")
    if country:
        return location_from_cf(country, cf_text(cf, "continent"), cf_text(cf, "isEUCountry"))
    return Location(country=None)


async def edge_request(js_request: Any, max_body_bytes: int) -> EdgeRequest:
    headers = Headers(header_pairs(js_request.headers))
    method = str(js_request.method)
    body = b""
    if method not in _NO_REQUEST_BODY:
        # Read at most one byte past the limit: enough for the pipeline to refuse it (413).
        body = await read_body(js_request, max_body_bytes)
    # Cloudflare sets CF-Connecting-IP itself, replacing whatever the client sent.
    client = valid_address(headers.get("cf-connecting-ip"))
    return EdgeRequest(method, target_of_url(str(js_request.url)), headers, body, client)


def js_response(response: EdgeResponse, method: str) -> Any:
    headers = list(response.headers)
    has_body = response.status not in _NULL_BODY_STATUSES
    if has_body and method != "HEAD":
        headers.append(("content-length", str(len(response.body))))
    body = response.body if has_body and response.body else None
    init = js.Object.new()
    init.status = response.status
    init.headers = js_headers(headers)
    return js.Response.new(None if body is None else to_js(body), init)


def misconfigured() -> Any:
    body = json.dumps(error_body("edge_misconfigured", "the edge is not configured correctly"))
    headers = js_headers([("content-type", "application/json"), ("cache-control", "no-store")])
    init = js.Object.new()
    init.status = 500
    init.headers = headers
    return js.Response.new(body, init)


class Default(WorkerEntrypoint):  # type: ignore[misc]
    async def fetch(self, request: Any) -> Any:
        js_request = request.js_object
        try:
            pipeline = pipeline_for(self.env)
        except ConfigError as error:
            logger.error("edge configuration refused: %s", error)
            return misconfigured()
        config = pipeline.config
        edge = await edge_request(js_request, config.limits.max_body_bytes)
        location = client_location(js_request, edge.headers, config)
        with request_scope(self.ctx, location):
            response = await pipeline.handle(edge)
        return js_response(response, edge.method)
