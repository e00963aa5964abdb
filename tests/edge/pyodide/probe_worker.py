"""A Python Worker that exercises what the Workers runtime provides, served by the Pyodide harness.

It runs only under Pyodide (tools/pyodide-host serves it as `main`); the tests in this directory
call its routes over HTTP and check the answers. Each route touches one runtime capability:

- ``GET /env/<NAME>``: a binding from ``env`` (wrangler.toml [vars], .dev.vars, --secret, --var);
- ``GET /relay/<path>``: ``js.fetch`` to ``ORIGIN_URL`` + path, answer relayed;
- ``POST /verify``: ``crypto.subtle.verify`` of a JWS (ES256 or RS256) against a JWK;
- ``GET /cache/<name>``: ``caches.default`` match, else put a fresh response (query sets headers);
- ``GET /background``: ``ctx.waitUntil`` work that fetches ``ORIGIN_URL/beacon`` after the answer;
- ``POST /equal``: ``crypto.subtle.timingSafeEqual`` (a Workers addition to Web Crypto);
- ``GET /cf``: ``request.cf``; ``POST /echo``: the request body; ``GET /boom``: an exception.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import js  # type: ignore[import-not-found]
from pyodide.ffi import to_js  # type: ignore[import-not-found]
from workers import Request, Response, WorkerEntrypoint  # type: ignore[import-not-found]

from shared.b64 import b64url_decode
from shared.errors import error_body

# WebCrypto parameters per JWS algorithm: (importKey algorithm, verify algorithm).
ALGORITHMS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "ES256": ({"name": "ECDSA", "namedCurve": "P-256"}, {"name": "ECDSA", "hash": "SHA-256"}),
    "RS256": (
        {"name": "RSASSA-PKCS1-v1_5", "hash": "SHA-256"},
        {"name": "RSASSA-PKCS1-v1_5"},
    ),
}
generated_responses = 0


def js_object(value: dict[str, Any]) -> Any:
    return to_js(value, dict_converter=js.Object.fromEntries)


def json_response(body: Any, status: int = 200) -> Response:
    return Response.json(body, status=status)


async def verify_jws(token: str, jwk: dict[str, Any]) -> bool:
    header_segment, payload_segment, signature_segment = token.split(".")
    algorithm = json.loads(b64url_decode(header_segment))["alg"]
    import_algorithm, verify_algorithm = ALGORITHMS[algorithm]
    key = await js.crypto.subtle.importKey(
        "jwk", js_object(jwk), js_object(import_algorithm), False, to_js(["verify"])
    )
    signed = f"{header_segment}.{payload_segment}".encode("ascii")
    valid = await js.crypto.subtle.verify(
        js_object(verify_algorithm),
        key,
        to_js(b64url_decode(signature_segment)),
        to_js(signed),
    )
    return bool(valid)


async def relay(origin_url: str, path: str) -> Response:
    upstream = await js.fetch(f"{origin_url.rstrip('/')}/{path}")
    body = await upstream.text()
    headers = {"content-type": upstream.headers.get("content-type") or "text/plain"}
    return Response(body, status=upstream.status, headers=headers)


async def cached(request: Request, name: str, query: dict[str, list[str]]) -> Response:
    global generated_responses
    cache_key = f"https://probe.outpost.test/cache/{name}"
    hit = await js.caches.default.match(cache_key)
    if hit is not None:
        return Response(hit)
    generated_responses += 1
    headers = {"cache-control": query.get("cc", ["public, max-age=60"])[0]}
    if "tag" in query:
        headers["cache-tag"] = query["tag"][0]
    if "cookie" in query:
        headers["set-cookie"] = "session=probe"
    fresh = Response(json.dumps({"generated": generated_responses}), headers=headers)
    await js.caches.default.put(cache_key, fresh.js_object.clone())
    return fresh


async def send_beacon(origin_url: str, token: str) -> None:
    # Long enough that the client has its answer before the beacon leaves.
    await asyncio.sleep(0.5)
    await js.fetch(f"{origin_url.rstrip('/')}/beacon?token={token}")


class Default(WorkerEntrypoint):  # type: ignore[misc]
    async def fetch(self, request: Request) -> Response:
        url = urlsplit(request.url)
        query = parse_qs(url.query)
        route, _, rest = url.path.lstrip("/").partition("/")
        method = request.method
        if method == "GET" and route == "env":
            return json_response({"name": rest, "value": getattr(self.env, rest, None)})
        if method == "GET" and route == "relay":
            target = f"{rest}?{url.query}" if url.query else rest
            return await relay(self.env.ORIGIN_URL, target)
        if method == "POST" and route == "verify":
            document = await request.json()
            return json_response({"valid": await verify_jws(document["token"], document["jwk"])})
        if method == "GET" and route == "cache":
            return await cached(request, rest, query)
        if method == "GET" and route == "background":
            task = asyncio.create_task(send_beacon(self.env.ORIGIN_URL, query["token"][0]))
            self.ctx.waitUntil(task)
            return json_response({"scheduled": True}, status=202)
        if method == "POST" and route == "equal":
            document = await request.json()
            left, right = (to_js(document[side].encode()) for side in ("a", "b"))
            return json_response({"equal": bool(js.crypto.subtle.timingSafeEqual(left, right))})
        if method == "GET" and route == "cf":
            cf = request.cf
            fields = ("country", "continent", "isEUCountry", "region", "httpProtocol")
            return json_response({field: getattr(cf, field, None) for field in fields})
        if method == "POST" and route == "echo":
            return Response(await request.text(), headers={"content-type": "text/plain"})
        if method == "GET" and route == "boom":
            message = "probe worker failure with a secret-looking detail"
            raise RuntimeError(message)
        return json_response(error_body("not_found", f"no probe route {url.path}"), status=404)
