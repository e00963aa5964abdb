"""Cloudflare's purge API, one request at a time: ``POST /zones/{zone_id}/purge_cache``.

Purges go by tag (``{"tags": [...]}``): Cloudflare documents purge by tag, by host, by prefix
and purge everything as what reaches responses a Worker stored with the Cache API under a key of
its own making, in every data center; purge by URL does not reach those
(https://developers.cloudflare.com/workers/reference/how-the-cache-works/#purge-assets-stored-with-the-cache-api,
https://developers.cloudflare.com/cache/how-to/purge-cache/purge-cache-key/). The edge's tag
records carry ``Cache-Tag: <tag>`` (``edge/runtime/workers/mapping.py``), so a tag purge
deletes the record everywhere, and with it every copy that depends on the tag.

Every answer is the API's envelope ``{"success", "errors": [{"code", "message"}], "messages",
"result": {"id"}}``; :meth:`CloudflarePurger.purge_tags` sorts it into what the dispatcher does
next: done, wait (``429`` and its ``Retry-After``), try again later (``5xx``, a timeout, a
broken connection), or a refusal that a retry will not fix on its own (a bad token).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from origin.purge.settings import PurgeSettings

# Cloudflare's "Authentication error": a token that is invalid, expired or lacks Cache Purge.
AUTHENTICATION_ERROR = 10000
# Waited when a 429 names no Retry-After: the time the Free plan takes to earn a request back.
DEFAULT_RETRY_AFTER_SECONDS = 12.0


class ApiError(BaseModel):
    # Strict: only a JSON true is success ("yes", 1 are not), lest a garbled answer settle a purge.
    model_config = ConfigDict(strict=True)

    code: int
    message: str = ""


class PurgeResult(BaseModel):
    model_config = ConfigDict(strict=True)

    id: str


class Envelope(BaseModel):
    model_config = ConfigDict(strict=True)

    success: bool
    errors: list[ApiError] = []
    messages: list[Any] = []
    result: PurgeResult | None = None


@dataclass(frozen=True, slots=True)
class Acknowledged:
    purge_id: str


@dataclass(frozen=True, slots=True)
class RateLimited:
    retry_after_seconds: float


@dataclass(frozen=True, slots=True)
class Retryable:
    """Cloudflare could not answer now; the same request may succeed later."""

    reason: str  # metric label: server_error, timeout, network
    detail: str


@dataclass(frozen=True, slots=True)
class Refused:
    """Cloudflare answered no; retrying will not help until someone fixes the cause."""

    reason: str  # metric label: authentication, rejected
    detail: str


Outcome = Acknowledged | RateLimited | Retryable | Refused


class CloudflarePurger:
    """Sends purge requests for one zone with one API token."""

    def __init__(self, settings: PurgeSettings, client: httpx.AsyncClient | None = None) -> None:
        if not settings.enabled:
            raise ValueError(f"purging is off: {', '.join(settings.missing)} not set")
        self._url = settings.purge_url
        self._client = client or httpx.AsyncClient(timeout=settings.request_timeout_seconds)
        self._headers = {"Authorization": f"Bearer {settings.api_token}"}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def purge_tags(self, tags: Sequence[str]) -> Outcome:
        try:
            response = await self._client.post(
                self._url, json={"tags": list(tags)}, headers=self._headers
            )
        except httpx.TimeoutException as error:
            return Retryable("timeout", f"no answer in time ({type(error).__name__})")
        except httpx.TransportError as error:
            return Retryable("network", f"{type(error).__name__}: {error}")
        return classify(response)


def classify(response: httpx.Response) -> Outcome:
    """What one answer of ``purge_cache`` means for the purge it carried."""
    status = response.status_code
    if status == 429:
        return RateLimited(retry_after_seconds(response.headers.get("retry-after")))
    envelope = _envelope(response)
    if status >= 500:
        return Retryable("server_error", f"HTTP {status}: {_errors(envelope)}")
    if envelope is None:
        return Refused("rejected", f"HTTP {status} without Cloudflare's JSON envelope")
    if status < 300 and envelope.success:
        return Acknowledged(envelope.result.id if envelope.result is not None else "")
    if status in (401, 403) or any(err.code == AUTHENTICATION_ERROR for err in envelope.errors):
        return Refused("authentication", f"HTTP {status}: {_errors(envelope)}")
    return Refused("rejected", f"HTTP {status}: {_errors(envelope)}")


def retry_after_seconds(value: str | None, now: float | None = None) -> float:
    """``Retry-After`` as seconds from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER_SECONDS
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _envelope(response: httpx.Response) -> Envelope | None:
    try:
        return Envelope.model_validate_json(response.content)
    except ValidationError:
        return None


def _errors(envelope: Envelope | None) -> str:
    if envelope is None or not envelope.errors:
        return "no errors given"
    return "; ".join(f"{error.code} {error.message}".strip() for error in envelope.errors)
