"""The Cloudflare Python Worker entry (`main` in wrangler.toml).

For now a minimal worker that proves the runtime: it answers every request with which Python and
Pyodide serve it. The edge pipeline (auth -> geofence -> cache -> forward) takes over `fetch`.
Cloudflare imports this file as the top-level module `worker`, so project code must be imported
absolutely (`from edge.x import y`), never relatively.
"""

import sys

import pyodide  # type: ignore[import-not-found]
from workers import Request, Response, WorkerEntrypoint  # type: ignore[import-not-found]


class Default(WorkerEntrypoint):  # type: ignore[misc]
    async def fetch(self, request: Request) -> Response:
        body = {
            "service": "outpost-edge",
            "python": sys.version.split()[0],
            "pyodide": pyodide.__version__,
            "jwt_issuer": getattr(self.env, "JWT_ISSUER", None),
        }
        return Response.json(body)
