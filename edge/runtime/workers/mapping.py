"""Pure translations between what the Cloudflare Workers runtime hands over and the edge's own
shapes. No ``js`` import: these run (and are tested) on CPython too.

- cache keys -> the URLs the Cache API is keyed by (``caches.default`` takes only URLs);
- ``request.cf`` fields -> a :class:`~shared.geofence.Location`;
- a request URL -> the origin-form target the pipeline checks;
- response headers after ``fetch`` decoded the body -> headers that describe the bytes held;
- response headers ``fetch`` kept -> whether a new ``Headers`` would accept them.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from urllib.parse import quote

from edge.cache_store import TAG_PREFIX
from shared.geofence import CONTINENTS, Location, is_country_code, location_of_country

DEFAULT_CACHE_KEY_HOST = "edge-cache.outpost.internal"
# Long keys (big queries, many Vary fingerprints) are hashed: a URL of a few KB is a poor key.
MAX_KEY_PATH_CHARS = 1024
# What fetch() decodes transparently (undici and workerd alike); the bytes we then hold are the
# decoded representation, so the header describing the encoding must go.
DECODED_CONTENT_CODINGS = frozenset({"gzip", "x-gzip", "deflate", "br"})
# What the Fetch standard's Headers class accepts: names are RFC 9110 tokens, values hold no
# NUL, CR or LF.
_FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00\r\n]")


def cache_key_url(key: str, host: str = DEFAULT_CACHE_KEY_HOST) -> str:
    """The Cache API URL for ``key``. Tag records get a readable URL derived from the tag alone
    (``/tag/<tag>``), so an operator can purge one by URL in every data center."""
    if key.startswith(TAG_PREFIX):
        return f"https://{host}/tag/{quote(key[len(TAG_PREFIX) :], safe='')}"
    path = quote(key, safe="")
    if len(path) > MAX_KEY_PATH_CHARS:
        return f"https://{host}/sha256/{hashlib.sha256(key.encode('utf-8')).hexdigest()}"
    return f"https://{host}/key/{path}"


def cache_tag_of(key: str) -> str | None:
    """The ``Cache-Tag`` a stored value carries: a tag record is tagged with its own tag, so
    purge-by-tag on Cloudflare deletes the record everywhere (and with it every dependent copy)."""
    return key[len(TAG_PREFIX) :] if key.startswith(TAG_PREFIX) else None


def cache_control_for_ttl(ttl_seconds: float) -> str:
    """``s-maxage`` is a whole number of seconds; rounding up never drops a short-lived entry
    (the cache layer judges freshness itself from the times it stored)."""
    return f"s-maxage={max(1, math.ceil(ttl_seconds))}"


def location_from_cf(
    country: str | None, continent: str | None, is_eu_country: str | None
) -> Location:
    """A location from ``request.cf``: Cloudflare's own continent and EU flag when it sent them,
    the tables otherwise. Unknown (``XX``) and Tor (``T1``) stay as they are: policy decides."""
    if not country or not is_country_code(country.strip().upper()):
        return Location(country=None)
    from_tables = location_of_country(country.strip().upper())
    if continent and continent.upper() in CONTINENTS:
        from_tables = Location(from_tables.country, continent.upper(), from_tables.is_eu)
    if is_eu_country is not None:
        return Location(from_tables.country, from_tables.continent, is_eu_country == "1")
    return from_tables


def target_of_url(url: str) -> str:
    """The origin-form target (path and query) of an absolute URL, exactly as spelled."""
    authority_start = url.find("//")
    path_start = url.find("/", authority_start + 2 if authority_start >= 0 else 0)
    if path_start < 0:
        return "/"
    return url[path_start:].partition("#")[0]


def decoded_body_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers for a body that ``fetch`` already decoded: without ``Content-Encoding`` (and the
    encoded ``Content-Length``) when the coding is one fetch decodes; unchanged otherwise."""
    pairs = list(headers)
    codings = [value.strip().lower() for name, value in pairs if name == "content-encoding"]
    if not codings or not all(coding in DECODED_CONTENT_CODINGS for coding in codings):
        return pairs
    return [(name, value) for name, value in pairs if name not in _ENCODED_FRAMING]


def sendable_headers(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether a new ``Headers`` accepts every pair. ``fetch`` keeps the headers it parsed off
    the wire without that check (Node's keeps a name like ``set-cookie `` with its space), so
    an origin's headers are checked before the worker passes them on in a ``Headers`` of its
    own: else the answer fails on its way out, and, once cached, on every hit."""
    return all(
        _FIELD_NAME.fullmatch(name) is not None and _FORBIDDEN_IN_VALUE.search(value) is None
        for name, value in headers
    )


_ENCODED_FRAMING = frozenset({"content-encoding", "content-length"})
