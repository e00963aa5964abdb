"""A Python Worker exposing the edge's Web Crypto verifier (edge/runtime/workers/webcrypto.py),
served under workerd for tests/edge/workerd/test_webcrypto_verifier.py.

``POST /verify`` with ``{"jwk": {...}, "token": "h.p.s"}`` answers ``{"valid": bool}``, or 422
``unusable_key`` when the key cannot be imported. The JWK goes through the JWT core's own parser,
so the verifier sees exactly the :class:`shared.jwt.Jwk` the edge would. ``GET /runtime`` answers
the Python version the worker runs on.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from workers import Response, WorkerEntrypoint  # type: ignore[import-not-found]

from edge.runtime.workers.webcrypto import WebCryptoSignatureVerifier
from shared.b64 import b64url_decode
from shared.errors import error_body
from shared.jwt import UnusableKey, parse_jwks

verifier = WebCryptoSignatureVerifier()


async def verify(document: dict[str, Any]) -> Response:
    keys = parse_jwks({"keys": [document["jwk"]]}, allow_symmetric=True).keys
    if not keys:
        return Response.json(error_body("unusable_key", "the JWK was not accepted"), status=422)
    header, payload, signature = document["token"].split(".")
    alg = json.loads(b64url_decode(header))["alg"]
    signing_input = f"{header}.{payload}".encode("ascii")
    try:
        valid = await verifier.verify(alg, keys[0], signing_input, b64url_decode(signature))
    except UnusableKey as error:
        return Response.json(error_body("unusable_key", str(error)), status=422)
    return Response.json({"valid": valid})


class Default(WorkerEntrypoint):  # type: ignore[misc]
    async def fetch(self, request: Any) -> Response:
        if request.method == "GET":
            major, minor = sys.version_info[:2]
            return Response.json({"python": f"{major}.{minor}"})
        return await verify(await request.json())
