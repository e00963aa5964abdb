"""A real HTTP server on 127.0.0.1 standing in for the origin, recording what reaches it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Upstream:
    """The server's base URL and the request lines it has received, in order."""

    base_url: str
    received: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        with self.lock:
            return list(self.received)


def _handler_for(upstream: Upstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with upstream.lock:
                upstream.received.append(self.path)
            path = urlsplit(self.path).path
            if path == "/hello":
                self._answer(200, {"hello": "from upstream", "user_agent_seen": True})
            elif path.startswith("/status/"):
                status = int(path.removeprefix("/status/"))
                self._answer(status, {"status": status})
            elif path == "/beacon":
                self._answer(204, None)
            else:
                self._answer(404, {"error": {"code": "not_found", "message": path}})

        def _answer(self, status: int, body: object) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

    return Handler


@contextmanager
def running_upstream() -> Iterator[Upstream]:
    upstream = Upstream(base_url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(upstream))
    upstream.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()
