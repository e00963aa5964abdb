"""Shared-cache decisions after RFC 9111 (HTTP Caching), with time as a parameter.

Everything here is a pure function of header values and times: whether a response may be stored
(§3, §3.5), how long it stays fresh (§4.2.1), how old it is (§4.2.3), whether it may be served
stale (RFC 5861's ``stale-while-revalidate`` and ``stale-if-error``), how a 304 refreshes it
(§4.3.4), the cache key (path, normalised query, and the request headers ``Vary`` names) and the
cache tags an origin attaches (``Cache-Tag``) or asks to purge (``Purge-Tags``).

Deliberate choices, all on the conservative side:

- Only explicit freshness (``s-maxage``, ``max-age``, ``Expires``) is honoured: no heuristic
  freshness, so nothing the origin did not mark cacheable is ever stored.
- ``private`` and ``no-cache`` with field names are treated like their unqualified forms (the
  response is not stored / always revalidated) rather than stored with fields removed.
- A directive repeated with different values, or a malformed delta, makes the response stale
  at once (§4.2.1 allows either the first value or "stale").
- ``s-maxage`` implies ``proxy-revalidate`` (§5.2.2.10), which forbids serving stale content on
  the cache's own initiative; ``stale-while-revalidate``/``stale-if-error`` are the origin's
  explicit permission and are honoured. ``must-revalidate``, ``proxy-revalidate`` and ``no-cache``
  withdraw that permission.
- Request ``Cache-Control`` (``no-cache``, ``max-age=0``) is not honoured by the edge: it would
  let any client force load onto the origin (caches commonly ignore it for this reason).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import parse_qsl, quote

CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
# Statuses a cache understands and may store when the response has explicit freshness
# (RFC 9110 §15.1 "heuristically cacheable" ones; 206 is left out: the edge does not do ranges).
STORABLE_STATUSES = frozenset({200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
DEFAULT_IGNORED_QUERY_PARAMETERS = (
    "utm_*",
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "_ga",
)
# delta-seconds beyond 2^31 are capped (§1.2.2).
MAX_DELTA_SECONDS = 2_147_483_648
MAX_QUERY_PARAMETERS = 256
MAX_VARY_HEADERS = 8
MAX_TAGS = 64
MAX_TAG_LENGTH = 128
MAX_ENTITY_TAGS = 64
# Fields a 304 must not overwrite in the stored response (§3.2, RFC 9110 §8.6).
_NOT_UPDATED_BY_304 = frozenset({"content-length", "content-encoding", "transfer-encoding"})

_DELTA = re.compile(r"[0-9]+")
_TAG = re.compile(rf"[\x21-\x2b\x2d-\x7e]{{1,{MAX_TAG_LENGTH}}}")  # printable, no comma/space
_ENTITY_TAG = re.compile(r'\s*((?:W/)?"[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')
_DIRECTIVE = re.compile(r'\s*([^=,\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*?))?\s*(?:,|$)')


class Freshness(StrEnum):
    FRESH = "fresh"
    STALE_WHILE_REVALIDATE = "stale_while_revalidate"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class CacheControl:
    """Parsed ``Cache-Control`` directives (lowercased names; values unquoted, or ``None``)."""

    directives: Mapping[str, str | None]

    def has(self, name: str) -> bool:
        return name in self.directives

    def seconds(self, name: str) -> float | None:
        """A delta-seconds directive: ``None`` when absent, 0 when malformed or conflicting."""
        if name not in self.directives:
            return None
        value = self.directives[name]
        if value is None or _DELTA.fullmatch(value) is None:
            return 0.0
        return float(min(int(value), MAX_DELTA_SECONDS))


def parse_cache_control(values: str | Iterable[str] | None) -> CacheControl:
    """Directives from one or more ``Cache-Control`` field values."""
    if values is None:
        return CacheControl({})
    text = values if isinstance(values, str) else ",".join(values)
    directives: dict[str, str | None] = {}
    position = 0
    while position < len(text):
        if text[position] in ", \t":  # empty list elements are allowed (RFC 9110 §5.6.1)
            position += 1
            continue
        match = _DIRECTIVE.match(text, position)
        if match is None or match.end() == position:
            break  # unparseable rest: ignore it, as caches ignore unknown extensions
        position = match.end()
        name, value = match.group(1).lower(), match.group(2)
        if value is not None and value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        # A directive repeated with another value reads as malformed (""): 0 seconds, stale.
        directives[name] = "" if name in directives and directives[name] != value else value
    return CacheControl(directives)


@dataclass(frozen=True, slots=True)
class Storability:
    storable: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ResponsePolicy:
    """What a stored response's headers allow, computed once when it is stored."""

    lifetime: float
    stale_while_revalidate: float
    stale_if_error: float
    serve_stale: bool  # False under must-revalidate, proxy-revalidate or no-cache
    shareable_with_authorization: bool  # §3.5: public, s-maxage or must-revalidate

    def freshness(self, age: float) -> Freshness:
        if age < self.lifetime:
            return Freshness.FRESH
        if self.serve_stale and age < self.lifetime + self.stale_while_revalidate:
            return Freshness.STALE_WHILE_REVALIDATE
        return Freshness.STALE

    def may_serve_stale_on_error(self, age: float) -> bool:
        return self.serve_stale and age < self.lifetime + self.stale_if_error

    def retention(self, age: float, revalidation_grace: float = 0.0) -> float:
        """Seconds from now the stored copy stays useful (fresh, servable stale, revalidatable)."""
        stale_window = max(self.stale_while_revalidate, self.stale_if_error) * self.serve_stale
        return max(0.0, self.lifetime + max(stale_window, revalidation_grace) - age)


def may_store(
    *,
    method: str,
    status: int,
    request_has_authorization: bool,
    response_headers: Mapping[str, Sequence[str]],
) -> Storability:
    """Whether a shared cache may store this response (§3), and if not, why.

    ``response_headers`` maps lowercased names to all their field values.
    """
    if method not in CACHEABLE_METHODS:
        return Storability(False, "method")
    if status not in STORABLE_STATUSES:
        return Storability(False, "status")
    control = parse_cache_control(response_headers.get("cache-control"))
    if control.has("no-store"):
        return Storability(False, "no-store")
    if control.has("private"):
        return Storability(False, "private")
    if response_headers.get("set-cookie"):
        return Storability(False, "set-cookie")
    names = vary_names(response_headers.get("vary", ()))
    if names is None:
        return Storability(False, "vary-star")
    if len(names) > MAX_VARY_HEADERS:
        return Storability(False, "vary-too-wide")
    if request_has_authorization and not _shareable_with_authorization(control):
        return Storability(False, "authorization")
    explicit = (
        control.has("s-maxage")
        or control.has("max-age")
        or bool(response_headers.get("expires"))
        or control.has("no-cache")
    )
    if not explicit:
        return Storability(False, "no-explicit-freshness")
    return Storability(True, "storable")


def response_policy(response_headers: Mapping[str, Sequence[str]]) -> ResponsePolicy:
    control = parse_cache_control(response_headers.get("cache-control"))
    no_cache = control.has("no-cache")
    return ResponsePolicy(
        lifetime=0.0 if no_cache else freshness_lifetime(control, response_headers),
        stale_while_revalidate=control.seconds("stale-while-revalidate") or 0.0,
        stale_if_error=control.seconds("stale-if-error") or 0.0,
        serve_stale=not (
            no_cache or control.has("must-revalidate") or control.has("proxy-revalidate")
        ),
        shareable_with_authorization=_shareable_with_authorization(control),
    )


def freshness_lifetime(
    control: CacheControl, response_headers: Mapping[str, Sequence[str]]
) -> float:
    """``s-maxage``, else ``max-age``, else ``Expires`` minus ``Date`` (§4.2.1); else 0."""
    for name in ("s-maxage", "max-age"):
        seconds = control.seconds(name)
        if seconds is not None:
            return seconds
    expires = response_headers.get("expires")
    if not expires:
        return 0.0
    if len(expires) > 1:
        return 0.0
    expires_at = parse_http_date(expires[0])
    date = parse_http_date(_first(response_headers.get("date")))
    if expires_at is None or date is None:
        return 0.0  # an invalid Expires means "already expired" (§5.3)
    return max(0.0, expires_at - date)


def current_age(
    *,
    age_header: str | None,
    date_header: str | None,
    request_time: float,
    response_time: float,
    now: float,
) -> float:
    """§4.2.3: the larger of the apparent age and the corrected ``Age``, plus time resident."""
    date_value = parse_http_date(date_header)
    apparent_age = max(0.0, response_time - date_value) if date_value is not None else 0.0
    age_value = parse_age(age_header)
    response_delay = max(0.0, response_time - request_time)
    corrected_initial_age = max(apparent_age, age_value + response_delay)
    return corrected_initial_age + max(0.0, now - response_time)


def parse_age(value: str | None) -> float:
    if value is None or _DELTA.fullmatch(value.strip()) is None:
        return 0.0
    return float(min(int(value.strip()), MAX_DELTA_SECONDS))


def parse_http_date(value: str | None) -> float | None:
    if not value or len(value) > 64:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None  # HTTP dates are GMT; a date without a zone is not one
    return parsed.timestamp()


def freshened_headers(
    stored: Sequence[tuple[str, str]], not_modified: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The stored response's headers updated by a 304 (§4.3.4): its fields replace ours."""
    replacing = {name for name, _ in not_modified if name not in _NOT_UPDATED_BY_304}
    kept = [(name, value) for name, value in stored if name not in replacing]
    return kept + [(name, value) for name, value in not_modified if name in replacing]


def vary_names(values: Iterable[str]) -> tuple[str, ...] | None:
    """The request headers a response varies on (lowercased, sorted); ``None`` for ``*``."""
    names: set[str] = set()
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if name == "*":
                return None
            if name:
                names.add(name)
    return tuple(sorted(names))


def variant_fingerprint(names: Sequence[str], request_headers: Mapping[str, Sequence[str]]) -> str:
    """A short digest of the request's values for the ``Vary`` names (whitespace-normalised)."""
    parts = []
    for name in names:
        values = request_headers.get(name, ())
        parts.append(name + ":" + " ".join(",".join(values).split()))
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


class QueryTooComplex(ValueError):
    """The query string has more parameters than a cache key may hold."""


def ignored_parameter(name: str, ignored: Iterable[str]) -> bool:
    """``utm_*`` patterns match by prefix; other names exactly."""
    for pattern in ignored:
        if pattern.endswith("*"):
            if name.startswith(pattern[:-1]):
                return True
        elif name == pattern:
            return True
    return False


def normalise_query(query: str, ignored: Iterable[str] = DEFAULT_IGNORED_QUERY_PARAMETERS) -> str:
    """Query parameters sorted by name (values of one name keep their order), tracking ones gone.

    ``?b=2&utm_source=x&a=1`` and ``?a=1&b=2`` normalise alike, so they share one cache entry.
    """
    if not query:
        return ""
    patterns = tuple(ignored)
    try:
        # Bytes that are not UTF-8 survive as surrogates and are encoded back as they came:
        # ``%FF`` must not become U+FFFD and share a key with ``%EF%BF%BD``.
        pairs = parse_qsl(
            query,
            keep_blank_values=True,
            max_num_fields=MAX_QUERY_PARAMETERS,
            errors="surrogateescape",
        )
    except ValueError:
        raise QueryTooComplex("too many query parameters") from None
    kept = [(name, value) for name, value in pairs if not ignored_parameter(name, patterns)]
    kept.sort(key=lambda pair: pair[0])  # stable: repeated names keep their order
    return "&".join(f"{_encode_component(name)}={_encode_component(value)}" for name, value in kept)


def _encode_component(text: str) -> str:
    return quote(text, safe="", errors="surrogateescape")


# Characters a canonically encoded path keeps as they are (RFC 3986 pchar and "/"). Everything
# else is percent-encoded, ``?``, ``#`` and ``%`` included, so an encoded path never holds the
# characters that end a path in a URL or a key.
PATH_SAFE = "/!$&'()*+,;=:@-._~"


def encode_path(path: str) -> str:
    """The one canonical encoding of a decoded path: what the edge forwards and keys on."""
    return quote(path, safe=PATH_SAFE, errors="surrogatepass")


def cache_key(path: str, normalised_query: str) -> str:
    """The key of a decoded ``path`` and a :func:`normalise_query` query.

    The path is encoded again (:func:`encode_path`), so a ``?`` or ``#`` that arrived
    percent-encoded in the path stays encoded: ``/a%3Fb=1`` and ``/a?b=1`` are different targets
    for the origin, and get different keys. A key never holds ``#`` (the normalised query encodes
    it too), which leaves that character free to separate a key from its variant.
    """
    encoded = encode_path(path)
    return f"{encoded}?{normalised_query}" if normalised_query else encoded


def if_none_match_matches(if_none_match: str | None, etag: str | None) -> bool:
    """RFC 9110 §13.1.2 weak comparison; absurd values (too many tags, bad syntax) never match."""
    if not if_none_match or etag is None:
        return False
    value = if_none_match.strip()
    if value == "*":
        return True
    ours = etag.removeprefix("W/")
    position, seen = 0, 0
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        seen += 1
        if match is None or seen > MAX_ENTITY_TAGS:
            return False
        if match.group(1).removeprefix("W/") == ours:
            return True
        position = match.end()
    return False


@dataclass(frozen=True, slots=True)
class ParsedTags:
    tags: tuple[str, ...]
    rejected: int  # malformed or over the limits: a response with any is not stored


def parse_tags(values: Iterable[str]) -> ParsedTags:
    """Tags from ``Cache-Tag`` / ``Purge-Tags`` values: comma-separated, deduplicated, bounded."""
    tags: dict[str, None] = {}
    rejected = 0
    for value in values:
        for part in value.split(","):
            tag = part.strip()
            if not tag:
                continue
            if _TAG.fullmatch(tag) is None or (tag not in tags and len(tags) >= MAX_TAGS):
                rejected += 1
            else:
                tags[tag] = None
    return ParsedTags(tuple(tags), rejected)


def _shareable_with_authorization(control: CacheControl) -> bool:
    return control.has("public") or control.has("s-maxage") or control.has("must-revalidate")


def _first(values: Sequence[str] | None) -> str | None:
    return values[0] if values else None
