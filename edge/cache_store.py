"""Stored responses over a plain key-value cache, with purge by tag.

Cloudflare's Cache API (``caches.default``) offers get, put and delete by key, and no purge by
tag outside Enterprise plans; the CPython edge's LRU offers the same. Purging by tag is built on
top, with one small record per tag::

    t:<tag>  ->  {"id": <random>, "purged_at": <time>}

A stored response embeds the record id of each of its tags as it was when the response was
stored. It is served only while every one of those records still exists with the same id. A
purge writes a new record (new id), so every response stored before it stops matching at once.
A record that has vanished (evicted, expired, deleted by a global purge) also fails the check:
losing state can only cause a miss, never serve a purged response. Storing re-creates missing
records, and a response whose fetch started before its tag's latest purge is not stored at all,
so a slow fetch racing a write cannot store pre-write data.

Reach across locations: the Cache API does not replicate, so a purge written here takes effect
in this data center only. Others keep serving their copies until those go stale: at most the
response's ``s-maxage`` (60 s for the demo catalog) plus ``stale-while-revalidate`` (30 s), and
up to ``stale-if-error`` (600 s) more only while their origin fetches fail. For immediate global
effect, purge the tag records themselves everywhere: the Pyodide adapter keys each by a URL
derived from the tag (and sends ``Cache-Tag: <tag>`` on it), so Cloudflare's purge API — by URL
on every plan, by tag where the plan offers it — deletes the record in every data center, and a
missing record invalidates every response depending on that tag.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edge.ports import Clock, KeyValueCache, Randomness
from shared.http_cache import variant_fingerprint

ENTRY_PREFIX = "e:"
TAG_PREFIX = "t:"
# Tag records outlive any response that depends on them (responses are capped well below).
TAG_RECORD_TTL_SECONDS = 7 * 86_400.0


@dataclass(slots=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_time: float  # when the fetch started (edge clock)
    response_time: float  # when its response arrived
    tags: tuple[str, ...] = ()
    tag_ids: tuple[str, ...] = ()
    vary: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    def header_map(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for name, value in self.headers:
            index.setdefault(name, []).append(value)
        return index

    def encode(self) -> bytes:
        meta = {
            "s": self.status,
            "h": self.headers,
            "q": self.request_time,
            "r": self.response_time,
            "t": self.tags,
            "i": self.tag_ids,
            "v": self.vary,
        }
        return json.dumps(meta, separators=(",", ":")).encode() + b"\n" + self.body


@dataclass(frozen=True, slots=True)
class _VariantIndex:
    """Stored under a response's key when it varies: the request headers its variants need."""

    vary: tuple[str, ...]


def decode(raw: bytes) -> StoredResponse | _VariantIndex | None:
    """A stored value; ``None`` when it is not one of ours (corrupt values are misses)."""
    head, _, body = raw.partition(b"\n")
    try:
        meta = json.loads(head)
        if "variants" in meta:
            return _VariantIndex(tuple(meta["variants"]))
        return StoredResponse(
            status=int(meta["s"]),
            headers=[(str(name), str(value)) for name, value in meta["h"]],
            body=body,
            request_time=float(meta["q"]),
            response_time=float(meta["r"]),
            tags=tuple(meta["t"]),
            tag_ids=tuple(meta["i"]),
            vary=tuple(meta["v"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


class TaggedCache:
    def __init__(self, cache: KeyValueCache, clock: Clock, random: Randomness) -> None:
        self._cache = cache
        self._clock = clock
        self._random = random

    async def lookup(
        self, key: str, request_headers: Mapping[str, Sequence[str]]
    ) -> StoredResponse | None:
        found = await self._get(ENTRY_PREFIX + key)
        if isinstance(found, _VariantIndex):
            found = await self._get(self._variant_key(key, found.vary, request_headers))
        if not isinstance(found, StoredResponse) or not await self._tags_current(found):
            return None
        return found

    async def store(
        self,
        key: str,
        response: StoredResponse,
        request_headers: Mapping[str, Sequence[str]],
        ttl_seconds: float,
    ) -> bool:
        """Store unless a tag was purged after the fetch began; ``False`` when not stored."""
        tag_ids = []
        for tag in response.tags:
            record = await self._tag_record(tag)
            if record is None:
                record = await self._new_tag_record(tag, purged_at=0.0)
            elif record["purged_at"] >= response.request_time:
                return False
            tag_ids.append(record["id"])
        response.tag_ids = tuple(tag_ids)
        entry_key = ENTRY_PREFIX + key
        if response.vary:
            index = json.dumps({"variants": response.vary}).encode() + b"\n"
            await self._cache.put(entry_key, index, ttl_seconds)
            entry_key = self._variant_key(key, response.vary, request_headers)
        await self._cache.put(entry_key, response.encode(), ttl_seconds)
        return True

    async def purge(self, tags: Iterable[str]) -> None:
        now = self._clock.now()
        for tag in tags:
            await self._new_tag_record(tag, purged_at=now)

    async def invalidate(self, key: str) -> None:
        await self._cache.delete(ENTRY_PREFIX + key)

    async def _tags_current(self, response: StoredResponse) -> bool:
        if len(response.tag_ids) != len(response.tags):
            return False
        for tag, tag_id in zip(response.tags, response.tag_ids, strict=True):
            record = await self._tag_record(tag)
            if record is None or record["id"] != tag_id:
                return False
        return True

    async def _get(self, key: str) -> StoredResponse | _VariantIndex | None:
        raw = await self._cache.get(key)
        return None if raw is None else decode(raw)

    async def _tag_record(self, tag: str) -> dict[str, Any] | None:
        raw = await self._cache.get(TAG_PREFIX + tag)
        if raw is None:
            return None
        try:
            record = json.loads(raw)
            return {"id": str(record["id"]), "purged_at": float(record["purged_at"])}
        except (ValueError, KeyError, TypeError):
            return None

    async def _new_tag_record(self, tag: str, *, purged_at: float) -> dict[str, Any]:
        record = {"id": self._random.token(12), "purged_at": purged_at}
        raw = json.dumps(record, separators=(",", ":")).encode()
        await self._cache.put(TAG_PREFIX + tag, raw, TAG_RECORD_TTL_SECONDS)
        return record

    @staticmethod
    def _variant_key(
        key: str, vary: Sequence[str], request_headers: Mapping[str, Sequence[str]]
    ) -> str:
        return f"{ENTRY_PREFIX}{key}#{variant_fingerprint(vary, request_headers)}"
