"""Origin settings: read once from the environment (and an optional ``.env``), validated up front.

A bad value stops the process at start with a message naming the variable, rather than failing on
the first request that needs it. Well-known variables (``DATABASE_URL``, ``REDIS_URL``) keep their
usual names; the app's own carry the ``OUTPOST_`` prefix.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from origin.purge.limits import PLANS, PlanLimits
from origin.purge.settings import CLOUDFLARE_API_URL, PurgeSettings
from shared.geofence import GeofencePolicy, PolicyInvalid, parse_policy

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "OUTPOST_"
ENVIRONMENTS = ("development", "test", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Shared by the edge's secret binding and the origin, so the app runs out of the box; it is public,
# so production refuses it (see check_production_safety). Generate: python -c "import secrets;
# print('k1:' + secrets.token_urlsafe(32))".
DEV_EDGE_SECRET = "outpost-development-only-edge-secret-never-deploy"  # noqa: S105
DEV_EDGE_SECRETS: tuple[tuple[str, str], ...] = (("dev", DEV_EDGE_SECRET),)
MIN_EDGE_SECRET_BYTES = 32
MAX_LEEWAY_SECONDS = 300
MAX_ACCESS_TOKEN_TTL_SECONDS = 24 * 3600
_EDGE_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting has a value the origin cannot start with."""


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str = "development"
    database_url: str = ""
    redis_url: str | None = None
    redis_prefix: str = "outpost:"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "INFO"
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    rate_limit_per_minute: int = 600
    response_cache: bool = True
    geofence_policy: GeofencePolicy | None = None  # None: shared/policies/geofence.json
    graceful_timeout_seconds: float = 10.0
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data")
    # Identity: the tokens the origin issues, its signing keys, the edge's assertion secrets and
    # an optional external identity provider (see docs/identity.md).
    jwt_issuer: str = "http://127.0.0.1:8000"
    jwt_audience: str = "outpost"
    jwt_leeway_seconds: int = 30
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    signing_keys_file: Path | None = None
    signing_keys_inline: str | None = field(default=None, repr=False)
    edge_secrets: tuple[tuple[str, str], ...] = field(default=DEV_EDGE_SECRETS, repr=False)
    external_issuer: str | None = None
    external_audience: str | None = None
    external_jwks_url: str | None = None
    login_attempts_per_account: int = 10
    login_attempts_per_address: int = 100
    purge: PurgeSettings = field(default_factory=PurgeSettings)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def signing_keys_path(self) -> Path:
        """Where the keyring file is (``OUTPOST_SIGNING_KEYS_FILE``, default under the data dir)."""
        return self.signing_keys_file or self.data_dir / "keys" / "signing-keys.json"

    @property
    def edge_secret_map(self) -> dict[str, bytes]:
        """Assertion secrets by key id (two during a rotation)."""
        return {key_id: secret.encode() for key_id, secret in self.edge_secrets}

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = None
    ) -> Settings:
        """Settings from ``environ`` (default: the process environment) over the ``.env`` file.

        Real environment variables win over ``.env`` so that a deployment can override a
        developer's file without editing it.
        """
        values = dict(read_dotenv(dotenv if dotenv is not None else PROJECT_ROOT / ".env"))
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = values.get(name)
            return value.strip() if value is not None and value.strip() else None

        def app(name: str) -> str | None:
            return get(ENV_PREFIX + name)

        data_dir = Path(app("DATA_DIR") or PROJECT_ROOT / "data")
        environment = _choice("OUTPOST_ENV", app("ENV") or "development", ENVIRONMENTS)
        settings = cls(
            environment=environment,
            database_url=normalise_database_url(
                get("DATABASE_URL") or f"sqlite:///{data_dir / 'outpost.db'}"
            ),
            redis_url=_redis_url(get("REDIS_URL")),
            redis_prefix=app("REDIS_PREFIX") or "outpost:",
            host=app("HOST") or "127.0.0.1",
            port=_parse("OUTPOST_PORT", app("PORT"), 8000, _port),
            workers=_parse("OUTPOST_WORKERS", app("WORKERS"), 1, _positive_int),
            log_level=_choice(
                "OUTPOST_LOG_LEVEL", (app("LOG_LEVEL") or "INFO").upper(), LOG_LEVELS
            ),
            cors_origins=_csv(app("CORS_ORIGINS")),
            max_body_bytes=_parse(
                "OUTPOST_MAX_BODY_BYTES", app("MAX_BODY_BYTES"), 1_048_576, _positive_int
            ),
            rate_limit_per_minute=_parse(
                "OUTPOST_RATE_LIMIT_PER_MINUTE", app("RATE_LIMIT_PER_MINUTE"), 600, _positive_int
            ),
            response_cache=_parse("OUTPOST_RESPONSE_CACHE", app("RESPONSE_CACHE"), True, _switch),
            geofence_policy=_parse(
                "OUTPOST_GEOFENCE_POLICY", app("GEOFENCE_POLICY"), None, _geofence_policy
            ),
            graceful_timeout_seconds=_parse(
                "OUTPOST_GRACEFUL_TIMEOUT", app("GRACEFUL_TIMEOUT"), 10.0, _positive_float
            ),
            data_dir=data_dir,
            **_identity_settings(app),
            purge=_purge_settings(get, app),
        )
        settings.check_production_safety()
        return settings

    def check_production_safety(self) -> None:
        """Refuse production settings that only make sense on a developer's machine."""
        if not self.is_production:
            return
        problems = []
        if self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL points at SQLite; production needs PostgreSQL")
        if "*" in self.cors_origins:
            problems.append("OUTPOST_CORS_ORIGINS allows every origin ('*')")
        if any(secret == DEV_EDGE_SECRET for _, secret in self.edge_secrets):
            problems.append(
                "OUTPOST_EDGE_SECRETS is the public development secret; set your own "
                "(kid:secret, at least 32 bytes, the same as the edge's EDGE_ASSERTION_SECRET)"
            )
        if self.signing_keys_inline is None and not self.signing_keys_path.is_file():
            problems.append(
                f"no signing keys: set OUTPOST_SIGNING_KEYS or create {self.signing_keys_path} "
                "with `outpost keys generate`"
            )
        if self.external_jwks_url is not None and not self.external_jwks_url.startswith("https://"):
            problems.append("OUTPOST_EXTERNAL_JWKS_URL must use https://")
        if problems:
            raise SettingsError(
                "refusing to start with OUTPOST_ENV=production: " + "; ".join(problems)
            )


def _identity_settings(app: Callable[[str], str | None]) -> dict[str, Any]:
    """The identity fields from ``OUTPOST_*`` variables (``app`` reads one without the prefix)."""
    access_ttl = _parse(
        "OUTPOST_ACCESS_TOKEN_TTL",
        app("ACCESS_TOKEN_TTL"),
        900,
        _bounded_int(1, MAX_ACCESS_TOKEN_TTL_SECONDS),
    )
    refresh_ttl = _parse(
        "OUTPOST_REFRESH_TOKEN_TTL", app("REFRESH_TOKEN_TTL"), 30 * 24 * 3600, _positive_int
    )
    if refresh_ttl <= access_ttl:
        raise SettingsError(
            f"OUTPOST_REFRESH_TOKEN_TTL={refresh_ttl} must be longer than "
            f"OUTPOST_ACCESS_TOKEN_TTL={access_ttl}"
        )
    keys_file = app("SIGNING_KEYS_FILE")
    return {
        "jwt_issuer": app("JWT_ISSUER") or "http://127.0.0.1:8000",
        "jwt_audience": app("JWT_AUDIENCE") or "outpost",
        "jwt_leeway_seconds": _parse(
            "OUTPOST_JWT_LEEWAY", app("JWT_LEEWAY"), 30, _bounded_int(0, MAX_LEEWAY_SECONDS)
        ),
        "access_token_ttl_seconds": access_ttl,
        "refresh_token_ttl_seconds": refresh_ttl,
        "signing_keys_file": Path(keys_file) if keys_file else None,
        "signing_keys_inline": app("SIGNING_KEYS"),
        "edge_secrets": _parse(
            "OUTPOST_EDGE_SECRETS", app("EDGE_SECRETS"), DEV_EDGE_SECRETS, _edge_secrets
        ),
        **_external_issuer(app),
        "login_attempts_per_account": _parse(
            "OUTPOST_LOGIN_ATTEMPTS_PER_ACCOUNT",
            app("LOGIN_ATTEMPTS_PER_ACCOUNT"),
            10,
            _positive_int,
        ),
        "login_attempts_per_address": _parse(
            "OUTPOST_LOGIN_ATTEMPTS_PER_ADDRESS",
            app("LOGIN_ATTEMPTS_PER_ADDRESS"),
            100,
            _positive_int,
        ),
    }


def _purge_settings(
    get: Callable[[str], str | None], app: Callable[[str], str | None]
) -> PurgeSettings:
    """Cloudflare's token and zone, the plan's limits (each overridable) and the dispatcher's
    timing, from ``CLOUDFLARE_*`` and ``OUTPOST_PURGE*`` variables (see docs/configuration.md)."""
    plan = _choice("OUTPOST_PURGE_PLAN", (app("PURGE_PLAN") or "free").lower(), tuple(PLANS))
    limits = PLANS[plan]
    limits = PlanLimits(
        requests_per_second=_parse(
            "OUTPOST_PURGE_REQUESTS_PER_MINUTE",
            app("PURGE_REQUESTS_PER_MINUTE"),
            limits.requests_per_minute,
            _positive_float,
        )
        / 60,
        bucket=_parse("OUTPOST_PURGE_BUCKET", app("PURGE_BUCKET"), limits.bucket, _positive_int),
        operations_per_request=_parse(
            "OUTPOST_PURGE_BATCH",
            app("PURGE_BATCH"),
            limits.operations_per_request,
            _bounded_int(1, 500),
        ),
    )
    api_url = app("PURGE_API_URL") or CLOUDFLARE_API_URL
    if not api_url.startswith(("https://", "http://")):
        raise SettingsError(f"OUTPOST_PURGE_API_URL must be an http(s) URL, got {api_url!r}")

    def seconds(name: str, default: float) -> float:
        return _parse(f"OUTPOST_{name}", app(name), default, _positive_float)

    settings = PurgeSettings(
        api_token=get("CLOUDFLARE_API_TOKEN"),
        zone_id=get("CLOUDFLARE_ZONE_ID"),
        api_url=api_url,
        plan=plan,
        limits=limits,
        poll_interval_seconds=seconds("PURGE_POLL_INTERVAL", 1.0),
        lease_seconds=seconds("PURGE_LEASE", 60.0),
        request_timeout_seconds=seconds("PURGE_TIMEOUT", 10.0),
        backoff_first_seconds=seconds("PURGE_BACKOFF", 1.0),
        backoff_longest_seconds=seconds("PURGE_BACKOFF_MAX", 300.0),
        metrics_port=_parse("OUTPOST_PURGER_METRICS_PORT", app("PURGER_METRICS_PORT"), None, _port),
    )
    if settings.lease_seconds <= settings.request_timeout_seconds:
        raise SettingsError(
            f"OUTPOST_PURGE_LEASE={settings.lease_seconds:g} must be longer than "
            f"OUTPOST_PURGE_TIMEOUT={settings.request_timeout_seconds:g}: a batch must stay "
            "claimed while its request is under way"
        )
    if settings.backoff_longest_seconds < settings.backoff_first_seconds:
        raise SettingsError("OUTPOST_PURGE_BACKOFF_MAX must be at least OUTPOST_PURGE_BACKOFF")
    return settings


def _external_issuer(app: Callable[[str], str | None]) -> dict[str, str | None]:
    """All three ``OUTPOST_EXTERNAL_*`` variables, or none: half an issuer cannot verify."""
    values = {
        "external_issuer": app("EXTERNAL_ISSUER"),
        "external_audience": app("EXTERNAL_AUDIENCE"),
        "external_jwks_url": app("EXTERNAL_JWKS_URL"),
    }
    given = [name for name, value in values.items() if value is not None]
    if given and len(given) != len(values):
        missing = ", ".join(
            "OUTPOST_" + name.upper() for name, value in values.items() if value is None
        )
        raise SettingsError(f"an external issuer needs all of its settings; missing: {missing}")
    url = values["external_jwks_url"]
    if url is not None and not url.startswith(("https://", "http://")):
        raise SettingsError(f"OUTPOST_EXTERNAL_JWKS_URL must be an http(s) URL, got {url!r}")
    return values


def _edge_secrets(raw: str) -> tuple[tuple[str, str], ...]:
    """``kid:secret,kid2:secret2``: every secret the origin accepts assertions under."""
    pairs: list[tuple[str, str]] = []
    for item in raw.split(","):
        key_id, sep, secret = item.strip().partition(":")
        if not sep or _EDGE_KEY_ID.fullmatch(key_id) is None:
            raise ValueError("expected kid:secret pairs separated by commas (kid: A-Z a-z 0-9 _ -)")
        if len(secret.encode()) < MIN_EDGE_SECRET_BYTES:
            raise ValueError(
                f"the secret of {key_id!r} is shorter than {MIN_EDGE_SECRET_BYTES} bytes"
            )
        if any(key_id == known for known, _ in pairs):
            raise ValueError(f"key id {key_id!r} is given twice")
        pairs.append((key_id, secret))
    return tuple(pairs)


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def convert(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return convert


def normalise_database_url(url: str) -> str:
    """Select the async driver for the URLs people usually write (``postgresql://``, ``sqlite://``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise SettingsError(f"DATABASE_URL must look like scheme://..., got {url!r}")
    drivers = {
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
    }
    if scheme not in drivers:
        raise SettingsError(
            f"DATABASE_URL scheme {scheme!r} is not supported; use postgresql:// or sqlite://"
        )
    return f"{drivers[scheme]}://{rest}"


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse ``KEY=value`` lines; ``#`` comments, blank lines and ``export`` are allowed."""
    if not path.is_file():
        return {}
    values = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}: expected KEY=value, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _redis_url(url: str | None) -> str | None:
    if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(
            f"REDIS_URL must start with redis://, rediss:// or unix://, got {url!r}"
        )
    return url


def _parse(name: str, raw: str | None, default: T, convert: Callable[[str], T]) -> T:
    if raw is None:
        return default
    try:
        return convert(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r}: {exc}") from None


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SettingsError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a positive whole number")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _geofence_policy(raw: str) -> GeofencePolicy:
    """Inline JSON in the format of shared/policies/geofence.json."""
    try:
        return parse_policy(json.loads(raw))
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    except PolicyInvalid as error:
        raise ValueError(str(error)) from None


def _switch(raw: str) -> bool:
    value = raw.lower()
    if value not in ("on", "off", "true", "false", "1", "0"):
        raise ValueError("expected on or off")
    return value in ("on", "true", "1")


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def _csv(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())
