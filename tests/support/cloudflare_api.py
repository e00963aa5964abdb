"""A local stand-in for Cloudflare's ``POST /zones/{zone_id}/purge_cache``: the documented
contract, nothing more.

Cloudflare's API cannot be reached from the test machines, so the purge dispatcher is tested
against this real HTTP server (Starlette under Hypercorn, in a thread). It implements what
Cloudflare documents (https://developers.cloudflare.com/api/resources/cache/methods/purge/,
https://developers.cloudflare.com/cache/how-to/purge-cache/):

- ``Authorization: Bearer <token>``; another token is ``403`` with error ``10000``
  ("Authentication error"), as Cloudflare answers an invalid token;
- a body with exactly one of ``files``, ``tags``, ``hosts``, ``prefixes`` (lists) or
  ``purge_everything: true``, at most ``max_operations`` items, tags of at most 1,024
  characters; anything else is ``400`` with ``success: false``;
- the envelope ``{"success", "errors": [{"code", "message"}], "messages", "result": {"id"}}``;
- optionally the plan's token bucket: over it, ``429`` with ``Retry-After``.

Tests script the next answers (:meth:`CloudflareApi.answer_next`): a canned response, a
``429``, a ``5xx``, or a delay longer than the client waits. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.edge.support.threads import ServerThread, bound_socket

ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "contract-test-token"
PURGE_KINDS = ("files", "tags", "hosts", "prefixes")
TAG_MAX = 1024


@dataclass(frozen=True)
class Answer:
    """One scripted answer: a response, sent after ``delay_seconds``."""

    status: int = 200
    body: Any = None  # JSON; None: the success envelope
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    raw: bytes | None = None  # a body that is not JSON (an HTML error page)


@dataclass(frozen=True)
class Received:
    """One request as the server saw it, and what it answered."""

    arrived: float  # time.time() when the request came in
    at: float  # time.time() when the answer was due
    authorization: str | None
    body: Any
    status: int

    @property
    def tags(self) -> list[str]:
        tags = self.body.get("tags", []) if isinstance(self.body, dict) else []
        return list(tags)


def success(purge_id: str | None = None) -> dict[str, Any]:
    return {
        "success": True,
        "errors": [],
        "messages": [],
        "result": {"id": purge_id or secrets.token_hex(16)},
    }


def failure(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": []}


class TokenBucket:
    """Cloudflare's per-account purge limit: ``rate`` requests a second, bursts of ``size``."""

    def __init__(self, rate: float, size: int) -> None:
        self.rate = rate
        self.size = size
        self._tokens = float(size)
        self._at = time.monotonic()

    def take(self) -> float:
        """0 if a token was taken, else the seconds until one is there."""
        now = time.monotonic()
        self._tokens = min(self.size, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


class CloudflareApi:
    """The contract server's state: scripted answers and what it received."""

    def __init__(
        self, *, token: str = TOKEN, max_operations: int = 100, bucket: TokenBucket | None = None
    ) -> None:
        self.token = token
        self.max_operations = max_operations
        self.bucket = bucket
        self.base_url = ""
        self._script: deque[Answer] = deque()
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/client/v4/zones/{zone_id}/purge_cache", self._purge, methods=["POST"])]
        )

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/client/v4"

    def answer_next(self, *answers: Answer) -> None:
        """Answer the next requests so, in order; then the contract's own answers again."""
        with self._lock:
            self._script.extend(answers)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def acknowledged(self) -> list[Received]:
        return [request for request in self.received() if request.status == 200]

    def acknowledged_tags(self) -> list[str]:
        return [tag for request in self.acknowledged() for tag in request.tags]

    async def wait_for(self, count: int, within: float = 10.0) -> list[Received]:
        """The requests once at least ``count`` have arrived (AssertionError past ``within``
        seconds)."""
        deadline = time.monotonic() + within
        while len(received := self.received()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} purge requests, got {len(received)}")
            await asyncio.sleep(0.02)
        return received

    async def _purge(self, request: Request) -> Response:
        arrived = time.time()
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        answer = scripted or self._contract_answer(request, body)
        with self._lock:  # recorded on arrival: a client may give up before a slow answer
            self._received.append(
                Received(
                    arrived,
                    arrived + answer.delay_seconds,
                    request.headers.get("authorization"),
                    body,
                    answer.status,
                )
            )
        if answer.delay_seconds:
            await asyncio.sleep(answer.delay_seconds)
        if answer.raw is not None:
            return Response(answer.raw, status_code=answer.status, headers=answer.headers)
        return JSONResponse(
            answer.body if answer.body is not None else success(),
            status_code=answer.status,
            headers=answer.headers,
        )

    def _contract_answer(self, request: Request, body: Any) -> Answer:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Answer(403, failure(10000, "Authentication error"))
        if request.path_params["zone_id"] != ZONE_ID:
            return Answer(
                404,
                failure(
                    7003, "Could not route to /zones, perhaps your object identifier is invalid?"
                ),
            )
        problem = self._invalid(body)
        if problem is not None:
            return Answer(400, failure(1012, problem))
        if self.bucket is not None:
            wait = self.bucket.take()
            if wait:
                return Answer(
                    429,
                    failure(1134, "rate limited"),
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
        return Answer(200, success())

    def _invalid(self, body: Any) -> str | None:
        if not isinstance(body, dict) or len(body) != 1:
            return "expected exactly one of files, tags, hosts, prefixes, purge_everything"
        ((kind, items),) = body.items()
        if kind == "purge_everything":
            return None if items is True else "purge_everything must be true"
        if kind not in PURGE_KINDS or not isinstance(items, list) or not items:
            return f"{kind} must be a non-empty list"
        if len(items) > self.max_operations:
            return f"at most {self.max_operations} operations per request, got {len(items)}"
        if kind == "tags" and not all(
            isinstance(tag, str) and 1 <= len(tag) <= TAG_MAX for tag in items
        ):
            return f"tags are strings of 1 to {TAG_MAX} characters"
        return None


@contextlib.contextmanager
def running_cloudflare_api(api: CloudflareApi | None = None) -> Iterator[CloudflareApi]:
    """The contract server on a free port of 127.0.0.1, for the ``with`` block."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    api = api or CloudflareApi()
    sock, port = bound_socket()
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 0.1  # a scripted delay must not hold the test's end

    async def run(stop: asyncio.Event) -> None:
        await serve(api.app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    thread = ServerThread(run, "cloudflare-api")
    thread.start()
    api.base_url = f"http://127.0.0.1:{port}"
    try:
        yield api
    finally:
        thread.stop()
