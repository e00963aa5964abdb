"""The edge's configuration, read from its environment: ``self.env`` in a Cloudflare worker
(wrangler.toml vars and secrets), the process environment for the CPython edge.

Everything is validated up front, so a bad value stops the edge at start with a message naming
the variable, never on the first request that needs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

from edge.resources import read_json
from shared.assertion import MIN_SECRET_BYTES
from shared.geofence import GeofencePolicy, PolicyInvalid, parse_policy
from shared.http_cache import DEFAULT_IGNORED_QUERY_PARAMETERS
from shared.jwt import SYMMETRIC_ALGORITHMS, VerificationPolicy
from shared.routes import RouteTable, RouteTableInvalid, parse_route_table
from shared.settings_rules import (
    DEVELOPMENT_EDGE_KEY_ID,
    DEVELOPMENT_EDGE_SECRET,
    GEOFENCE_POLICY_FILE,
    ROUTES_FILE,
    comma_separated,
    duration,
    finite_number,
    size,
)

T = TypeVar("T")

DEFAULT_ALGORITHMS = ("ES256", "ES384", "RS256", "PS256", "EdDSA")
# Only for local mode, so that `outpost dev` works out of the box: the origin's development
# default too (shared/settings_rules.py), public and refused by a production origin.
# Production mode refuses to start without a real secret.
LOCAL_DEVELOPMENT_SECRET = DEVELOPMENT_EDGE_SECRET
LOCAL_DEVELOPMENT_KEY_ID = DEVELOPMENT_EDGE_KEY_ID
# The smallest size limit the edge takes: a request line or headers must fit in it.
MIN_LIMIT_BYTES = 256


class ConfigError(ValueError):
    """A setting has a value the edge cannot start with."""


class Mode(StrEnum):
    # local: the client's country comes from the CF-IPCountry header (development, tests).
    LOCAL = "local"
    # production: only the runtime's own geolocation counts; CF-IPCountry is ignored.
    PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_target_bytes: int = 8192
    max_header_bytes: int = 32768
    max_header_count: int = 100
    max_body_bytes: int = 1_048_576
    max_upstream_body_bytes: int = 16 * 1_048_576


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    origin_url: str
    mode: Mode
    token_policy: VerificationPolicy
    jwks_url: str
    assertion_secret: bytes
    assertion_key_id: str
    geofence: GeofencePolicy
    routes: RouteTable
    jwks_max_age_seconds: float = 300.0
    jwks_refetch_interval_seconds: float = 30.0
    origin_timeout_seconds: float = 10.0
    ignored_query_parameters: tuple[str, ...] = DEFAULT_IGNORED_QUERY_PARAMETERS
    revalidation_grace_seconds: float = 120.0
    max_cache_ttl_seconds: float = 86_400.0
    fixed_time: float | None = None
    limits: RequestLimits = RequestLimits()
    realm: str = "outpost"

    @property
    def is_local(self) -> bool:
        return self.mode is Mode.LOCAL

    @classmethod
    def from_env(cls, env: Mapping[str, Any]) -> EdgeConfig:
        values = {name: str(value).strip() for name, value in env.items() if value is not None}

        def get(name: str) -> str | None:
            return values.get(name) or None

        origin_url = _origin_url(get("ORIGIN_URL"))
        mode = _parse("EDGE_MODE", get("EDGE_MODE"), Mode.PRODUCTION, Mode)
        secret = get("EDGE_ASSERTION_SECRET")
        key_id = get("EDGE_ASSERTION_KEY_ID") or "edge"
        if secret is None and mode is Mode.LOCAL:
            secret, key_id = LOCAL_DEVELOPMENT_SECRET, LOCAL_DEVELOPMENT_KEY_ID
        elif secret == LOCAL_DEVELOPMENT_SECRET and mode is Mode.PRODUCTION:
            raise ConfigError("EDGE_ASSERTION_SECRET is the public development secret")
        fixed_time = _parse("EDGE_FIXED_TIME", get("EDGE_FIXED_TIME"), None, finite_number)
        if fixed_time is not None and mode is not Mode.LOCAL:
            raise ConfigError("EDGE_FIXED_TIME is for local mode (tests) only")
        limits = RequestLimits(
            max_target_bytes=_parse("EDGE_MAX_URL_BYTES", get("EDGE_MAX_URL_BYTES"), 8192, _size),
            max_header_bytes=_parse(
                "EDGE_MAX_HEADER_BYTES", get("EDGE_MAX_HEADER_BYTES"), 32768, _size
            ),
            max_body_bytes=_parse(
                "EDGE_MAX_BODY_BYTES", get("EDGE_MAX_BODY_BYTES"), 1_048_576, _size
            ),
        )
        return cls(
            origin_url=origin_url,
            mode=mode,
            token_policy=_token_policy(values, origin_url),
            jwks_url=_url("JWKS_URL", get("JWKS_URL") or f"{origin_url}/.well-known/jwks.json"),
            assertion_secret=_secret(secret),
            assertion_key_id=key_id,
            geofence=_geofence(get("GEOFENCE_POLICY")),
            routes=_routes(get("EDGE_ROUTES")),
            jwks_max_age_seconds=_parse(
                "JWKS_MAX_AGE_SECONDS", get("JWKS_MAX_AGE_SECONDS"), 300.0, duration
            ),
            jwks_refetch_interval_seconds=_parse(
                "JWKS_REFETCH_INTERVAL_SECONDS",
                get("JWKS_REFETCH_INTERVAL_SECONDS"),
                30.0,
                duration,
            ),
            origin_timeout_seconds=_parse(
                "ORIGIN_TIMEOUT_SECONDS", get("ORIGIN_TIMEOUT_SECONDS"), 10.0, duration
            ),
            ignored_query_parameters=_csv(get("CACHE_IGNORED_QUERY_PARAMETERS"))
            or DEFAULT_IGNORED_QUERY_PARAMETERS,
            fixed_time=fixed_time,
            limits=limits,
        )


def _token_policy(values: Mapping[str, str], origin_url: str) -> VerificationPolicy:
    algorithms = _csv(values.get("JWT_ALGORITHMS")) or DEFAULT_ALGORITHMS
    if set(algorithms) & SYMMETRIC_ALGORITHMS:
        # The edge gets its keys from a published JWKS; a shared secret there is no secret.
        raise ConfigError("JWT_ALGORITHMS: the edge verifies asymmetric algorithms only")
    try:
        return VerificationPolicy(
            issuer=values.get("JWT_ISSUER") or origin_url,
            audience=values.get("JWT_AUDIENCE") or "outpost",
            algorithms=frozenset(algorithms),
            leeway_seconds=_parse(
                "JWT_LEEWAY_SECONDS", values.get("JWT_LEEWAY_SECONDS"), 30.0, float
            ),
        )
    except ValueError as error:
        raise ConfigError(f"JWT settings: {error}") from None


def _origin_url(value: str | None) -> str:
    if value is None:
        raise ConfigError("ORIGIN_URL is required (where the edge forwards requests)")
    url = _url("ORIGIN_URL", value).rstrip("/")
    if urlsplit(url).path or urlsplit(url).query:
        raise ConfigError("ORIGIN_URL is scheme://host[:port], without a path")
    return url


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name}={value!r}: expected an http:// or https:// URL")
    return value


def _secret(value: str | None) -> bytes:
    if value is None:
        raise ConfigError("EDGE_ASSERTION_SECRET is required (wrangler secret put ...)")
    secret = value.encode("utf-8")
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(f"EDGE_ASSERTION_SECRET needs at least {MIN_SECRET_BYTES} bytes")
    return secret


def _geofence(inline: str | None) -> GeofencePolicy:
    try:
        document = json.loads(inline) if inline else read_json(GEOFENCE_POLICY_FILE)
        return parse_policy(document)
    except (ValueError, PolicyInvalid) as error:
        raise ConfigError(f"GEOFENCE_POLICY: {error}") from None


def _routes(inline: str | None) -> RouteTable:
    try:
        document = json.loads(inline) if inline else read_json(ROUTES_FILE)
        return parse_route_table(document)
    except (ValueError, RouteTableInvalid) as error:
        raise ConfigError(f"EDGE_ROUTES: {error}") from None


def _parse(name: str, raw: str | None, default: T, convert: Callable[[str], T]) -> T:
    if raw is None:
        return default
    try:
        return convert(raw)
    except ValueError as error:
        raise ConfigError(f"{name}={raw!r}: {error}") from None


def _size(raw: str) -> int:
    return size(raw, MIN_LIMIT_BYTES)


def _csv(raw: str | None) -> tuple[str, ...]:
    return comma_separated(raw or "")
