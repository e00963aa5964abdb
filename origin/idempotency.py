"""Idempotency keys for unsafe requests (the IETF ``Idempotency-Key`` header draft).

The database is the source of truth: the write records the key under a UNIQUE constraint, so a
retry can never act twice, with or without Redis. The key-value store adds two things on top:

- a fast replay: the first successful response is kept for a day and a retry gets it back
  without touching the database;
- an in-flight lock: a retry that arrives while the first attempt is still running gets 409
  (retry later) instead of queueing behind it on the database's row locks.

When the store is down, both are skipped and the database's constraint does the work alone.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from origin.errors import ApiError
from origin.kv import Store, StoreUnavailable
from origin.services import services

RECORD_TTL_SECONDS = 24 * 3600
LOCK_TTL_SECONDS = 30.0  # longer than any request may run; a crashed holder frees it by expiry
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("content-type", "location", "cache-control")


async def idempotent(
    request: Request,
    *,
    owner: str,
    key: str,
    fingerprint: str,
    run: Callable[[], Awaitable[Response]],
) -> Response:
    """``run()`` once per (owner, key); retries get the first successful response back."""
    store = services(request).store
    record_key = f"idempotency:{owner}:{key}"
    recorded = await store.get(record_key)
    if recorded is not None:
        replayed = _replay(recorded, key, fingerprint)
        services(request).metrics.idempotent_replays.inc(("store",))
        return replayed

    lock_key = f"{record_key}:lock"
    try:
        locked = await store.add(lock_key, b"1", LOCK_TTL_SECONDS)
    except StoreUnavailable:
        locked = True  # no lock to take: the database's constraint arbitrates alone
    if not locked:
        raise ApiError(
            409,
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still being processed; retry shortly",
            headers={"Retry-After": "1"},
        )
    try:
        response = await run()
        if 200 <= response.status_code < 300:
            await _remember(store, record_key, _record(response, fingerprint))
        return response
    finally:
        await _forget(store, lock_key)


async def _remember(store: Store, record_key: str, record: bytes) -> None:
    """Keep the response for replays; without the store, the database answers replays."""
    with contextlib.suppress(StoreUnavailable):
        await store.set(record_key, record, RECORD_TTL_SECONDS)


async def _forget(store: Store, lock_key: str) -> None:
    """Release the lock; if the store is down, the lock's expiry releases it."""
    with contextlib.suppress(StoreUnavailable):
        await store.delete(lock_key)


KEY_REUSED_CODE = "idempotency_key_reused"


def key_reused_detail(key: str) -> str:
    """What a client is told when ``key`` comes back with a different request (HTTP 422), by
    this layer or by a handler that keeps its own record of keys (the demo's orders)."""
    return (
        f"Idempotency-Key {key!r} was already used for a different request; "
        "use a new key for a new request"
    )


def _record(response: Response, fingerprint: str) -> bytes:
    kept = {name: value for name, value in response.headers.items() if name in KEPT_HEADERS}
    header = json.dumps([fingerprint, response.status_code, kept], separators=(",", ":"))
    return header.encode() + b"\n" + bytes(response.body)


def _replay(recorded: bytes, key: str, fingerprint: str) -> Response:
    header, _, body = recorded.partition(b"\n")
    recorded_fingerprint, status, headers = json.loads(header)
    if recorded_fingerprint != fingerprint:
        raise ApiError(422, KEY_REUSED_CODE, key_reused_detail(key))
    return Response(body, status_code=status, headers={**headers, REPLAYED_HEADER: "true"})
