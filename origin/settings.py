"""Origin settings: one typed model, read once at start, validated up front.

pydantic-settings reads every variable: the real environment first, then the ``.env`` file at the
project root, then the defaults below (a variable set in the environment wins over ``.env``, so a
deployment overrides a developer's file without editing it). A bad value stops the process at start
with one line naming the variable, rather than failing on the first request that needs it.
Well-known variables (``DATABASE_URL``, ``REDIS_URL``, ``CLOUDFLARE_*``) keep their usual names;
the app's own carry the ``OUTPOST_`` prefix. What a valid duration, size or port is, and the
development secret, are the rules the edge follows too (:mod:`shared.settings_rules`).

``docs/configuration.md`` lists the variables from this model: ``python -m origin.settings_doc``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BeforeValidator,
    Field,
    PlainValidator,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from origin.purge.limits import PLANS, PlanLimits
from origin.purge.settings import CLOUDFLARE_API_URL, PurgeSettings
from shared import settings_rules as rules
from shared.assertion import MIN_SECRET_BYTES
from shared.geofence import GeofencePolicy, PolicyInvalid, parse_policy

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOTENV_FILE = PROJECT_ROOT / ".env"
ENV_PREFIX = "OUTPOST_"
DEV_EDGE_SECRET = rules.DEVELOPMENT_EDGE_SECRET
DEV_EDGE_SECRETS: tuple[tuple[str, SecretStr], ...] = (
    (rules.DEVELOPMENT_EDGE_KEY_ID, SecretStr(DEV_EDGE_SECRET)),
)
MAX_LEEWAY_SECONDS = 300
MAX_ACCESS_TOKEN_TTL_SECONDS = 24 * 3600
MAX_PURGE_BATCH = 500
# The database pool per worker process. One worker is one event loop serving many requests at
# once; a request holds a connection only while its statements run, so the pool needs about as
# many connections as requests in flight before the worker's CPU, not the pool, is what they wait
# for: a few per core, 16 leaves room for requests waiting on a slow query. The old fixed pool of
# 5 made 8 concurrent clients open and close overflow connections on every burst (issue #15).
# Overflow connections are opened and closed per use (a TCP and authentication handshake each),
# so they absorb bursts, not steady load. 24 per worker keeps four workers under PostgreSQL's
# default max_connections (100).
DEFAULT_DB_POOL_SIZE = 16
DEFAULT_DB_MAX_OVERFLOW = 8
MAX_DB_CONNECTIONS = 1000
_EDGE_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

T = TypeVar("T")

Environment = Literal["development", "test", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
PurgePlan = Literal["free", "pro", "business", "enterprise"]  # origin.purge.limits.PLANS
# The HTTP servers `outpost origin` can run (origin/servers/); the first is the default.
ServerName = Literal["uvicorn", "granian", "hypercorn"]


class SettingsError(ValueError):
    """A setting has a value the origin cannot start with."""


@dataclass(frozen=True, slots=True)
class Kind:
    """What a setting's value is, in the words of docs/configuration.md."""

    words: str


def _from_text(rule: Callable[[str], Any]) -> BeforeValidator:
    """Apply a text rule to a variable's value (defaults and code-given values pass as they are)."""
    return BeforeValidator(lambda value: rule(value) if isinstance(value, str) else value)


def _edge_secrets(value: object) -> tuple[tuple[str, SecretStr], ...]:
    """``kid:secret,kid2:secret2``: every secret the origin accepts assertions under."""
    if isinstance(value, tuple):  # given in code (tests), not read from a variable
        return tuple((str(key_id), SecretStr(str(secret))) for key_id, secret in value)
    if not isinstance(value, str):
        raise ValueError("expected kid:secret pairs separated by commas")
    pairs: dict[str, SecretStr] = {}
    for item in value.split(","):
        key_id, sep, secret = item.strip().partition(":")
        if not sep or _EDGE_KEY_ID.fullmatch(key_id) is None:
            raise ValueError("expected kid:secret pairs separated by commas (kid: A-Z a-z 0-9 _ -)")
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the secret of {key_id!r} is shorter than {MIN_SECRET_BYTES} bytes")
        if key_id in pairs:
            raise ValueError(f"key id {key_id!r} is given twice")
        pairs[key_id] = SecretStr(secret)
    return tuple(pairs.items())


def _geofence_policy(value: object) -> GeofencePolicy | None:
    """Inline JSON in the format of shared/policies/geofence.json."""
    if value is None or isinstance(value, GeofencePolicy):  # given in code (tests)
        return value
    if not isinstance(value, str):
        raise ValueError("expected the policy as JSON")
    try:
        return parse_policy(json.loads(value))
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    except PolicyInvalid as error:
        raise ValueError(str(error)) from None


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


def _redis_url(value: str) -> str:
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return value


def _bounded(low: int, high: int) -> Callable[[str], int]:
    return lambda text: rules.whole_number(text, low, high)


def _count(text: str) -> int:
    return rules.whole_number(text, 1)


Seconds = Annotated[float, _from_text(rules.duration), Kind("seconds")]
Count = Annotated[int, _from_text(_count), Kind("whole number, 1 or more")]
Port = Annotated[int, _from_text(rules.port), Kind("port (0-65535)")]
Switch = Annotated[bool, _from_text(rules.switch), Kind("`on` or `off`")]
CommaList = Annotated[
    tuple[str, ...], NoDecode, _from_text(rules.comma_separated), Kind("comma-separated list")
]


def setting(
    default: Any,
    env: str,
    description: str,
    *,
    section: str,
    shown_default: str | None = None,
    concealed: bool = False,
) -> Any:
    """A field read from the variable ``env``, documented in ``section`` of configuration.md.

    ``shown_default`` is what the docs say when the default is not a literal (a path under this
    checkout); a ``concealed`` value is never repeated in an error message (it may hold a password).
    """
    extra: dict[str, Any] = {"section": section, "concealed": concealed}
    if shown_default is not None:
        extra["shown_default"] = shown_default
    return Field(default, validation_alias=env, description=description, json_schema_extra=extra)


def app(name: str) -> str:
    """The app's own variable ``name``, with the prefix (``PORT`` -> ``OUTPOST_PORT``)."""
    return ENV_PREFIX + name


ORIGIN, IDENTITY, PURGES = "Origin", "Identity", "Cloudflare purges"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        case_sensitive=True,
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        arbitrary_types_allowed=True,
        validate_default=False,
    )

    environment: Environment = setting(
        "development",
        app("ENV"),
        "Production refuses development-only settings (below).",
        section=ORIGIN,
    )
    data_dir: Path = setting(
        PROJECT_ROOT / "data",
        app("DATA_DIR"),
        "Where the default SQLite file and the development keyring live.",
        section=ORIGIN,
        shown_default="`data/`",
    )
    database_url: Annotated[str, Kind("URL")] = setting(
        "",
        "DATABASE_URL",
        "`sqlite:///path` (embedded, WAL mode) or `postgresql://user:pass@host/db` (asyncpg).",
        section=ORIGIN,
        shown_default="`sqlite:///data/outpost.db`",
        concealed=True,
    )
    db_pool_size: Annotated[
        int,
        _from_text(_bounded(1, MAX_DB_CONNECTIONS)),
        Kind(f"whole number (1-{MAX_DB_CONNECTIONS})"),
    ] = setting(
        DEFAULT_DB_POOL_SIZE,
        app("DB_POOL_SIZE"),
        "Database connections each worker process keeps open. The default covers the requests "
        "one worker has in flight before its CPU, not the pool, limits it (a request holds a "
        "connection only while its statements run); fewer make concurrent requests queue or "
        "open overflow connections. Ignored for an in-memory SQLite database.",
        section=ORIGIN,
    )
    db_max_overflow: Annotated[
        int,
        _from_text(_bounded(0, MAX_DB_CONNECTIONS)),
        Kind(f"whole number (0-{MAX_DB_CONNECTIONS})"),
    ] = setting(
        DEFAULT_DB_MAX_OVERFLOW,
        app("DB_MAX_OVERFLOW"),
        "Connections a worker may open beyond the pool during a burst, closed again when "
        "returned (each costs a new connection handshake). Workers x (pool + overflow) must stay "
        "under the server's `max_connections` (PostgreSQL's default, 100, fits four workers at "
        "the defaults).",
        section=ORIGIN,
    )
    redis_url: Annotated[str | None, _from_text(_redis_url), Kind("URL")] = setting(
        None,
        "REDIS_URL",
        "`redis://host:6379/0`, `rediss://...` or `unix://...`. Unset: an in-process store serves "
        "one process (cache, rate limits, nonces).",
        section=ORIGIN,
        concealed=True,
    )
    redis_prefix: str = setting(
        "outpost:",
        app("REDIS_PREFIX"),
        "Prefix of every Redis key, so several apps can share one Redis.",
        section=ORIGIN,
    )
    host: str = setting(
        "127.0.0.1",
        app("HOST"),
        "Where `.venv/bin/outpost origin` listens (`--host` overrides).",
        section=ORIGIN,
    )
    port: Port = setting(
        8000,
        app("PORT"),
        "The port `.venv/bin/outpost origin` listens on (`--port` overrides).",
        section=ORIGIN,
    )
    server: Annotated[ServerName, _from_text(str.lower)] = setting(
        "uvicorn",
        app("SERVER"),
        "The HTTP server: `uvicorn`, `granian` or `hypercorn` (`--server` overrides; "
        "docs/deploy.md, Choosing the server).",
        section=ORIGIN,
    )
    workers: Count = setting(
        1, app("WORKERS"), "Server worker processes (`--workers` overrides).", section=ORIGIN
    )
    graceful_timeout_seconds: Seconds = setting(
        10.0,
        app("GRACEFUL_TIMEOUT"),
        "How long in-flight requests get to finish after SIGTERM.",
        section=ORIGIN,
    )
    log_level: Annotated[LogLevel, _from_text(str.upper)] = setting(
        "INFO",
        app("LOG_LEVEL"),
        "`DEBUG` ... `CRITICAL` (any letter case); logs are JSON lines on stderr.",
        section=ORIGIN,
    )
    cors_origins: CommaList = setting(
        (),
        app("CORS_ORIGINS"),
        "Origins allowed to call the API from a browser. Unset: no CORS.",
        section=ORIGIN,
    )
    max_body_bytes: Annotated[int, _from_text(rules.size), Kind("bytes")] = setting(
        1_048_576,
        app("MAX_BODY_BYTES"),
        "Larger request bodies get 413 before they are read.",
        section=ORIGIN,
    )
    rate_limit_per_minute: Count = setting(
        600,
        app("RATE_LIMIT_PER_MINUTE"),
        "Requests per client (subject, else address) per minute; 429 beyond.",
        section=ORIGIN,
    )
    response_cache: Switch = setting(
        True,
        app("RESPONSE_CACHE"),
        "The origin's own Redis copy of public reads (`off` for benchmarks).",
        section=ORIGIN,
    )
    geofence_policy: Annotated[
        GeofencePolicy | None, NoDecode, PlainValidator(_geofence_policy), Kind("JSON")
    ] = setting(
        None,
        app("GEOFENCE_POLICY"),
        "The geofence policy as inline JSON, in the format of `shared/policies/geofence.json`.",
        section=ORIGIN,
        shown_default="`shared/policies/geofence.json`",
    )

    # Identity: the tokens the origin issues, its signing keys, the edge's assertion secrets and
    # an optional external identity provider (see docs/identity.md).
    jwt_issuer: str = setting(
        "http://127.0.0.1:8000",
        app("JWT_ISSUER"),
        "`iss` of the tokens the origin issues and accepts.",
        section=IDENTITY,
    )
    jwt_audience: str = setting(
        "outpost", app("JWT_AUDIENCE"), "`aud` of those tokens.", section=IDENTITY
    )
    jwt_leeway_seconds: Annotated[
        int, _from_text(_bounded(0, MAX_LEEWAY_SECONDS)), Kind(f"seconds (0-{MAX_LEEWAY_SECONDS})")
    ] = setting(
        30,
        app("JWT_LEEWAY"),
        "Clock skew tolerated on `exp`, `nbf`, `iat`.",
        section=IDENTITY,
    )
    access_token_ttl_seconds: Annotated[
        int,
        _from_text(_bounded(1, MAX_ACCESS_TOKEN_TTL_SECONDS)),
        Kind(f"seconds (1-{MAX_ACCESS_TOKEN_TTL_SECONDS})"),
    ] = setting(900, app("ACCESS_TOKEN_TTL"), "Access token lifetime.", section=IDENTITY)
    refresh_token_ttl_seconds: Annotated[int, _from_text(_count), Kind("seconds")] = setting(
        30 * 24 * 3600,
        app("REFRESH_TOKEN_TTL"),
        "Refresh token lifetime; longer than the access token's.",
        section=IDENTITY,
    )
    signing_keys_file: Path | None = setting(
        None,
        app("SIGNING_KEYS_FILE"),
        "The keyring (`.venv/bin/outpost keys generate`).",
        section=IDENTITY,
        shown_default="`data/keys/signing-keys.json`",
    )
    signing_keys_inline: SecretStr | None = setting(
        None,
        app("SIGNING_KEYS"),
        "The keyring as inline JSON, for containers and secret managers (wins over the file).",
        section=IDENTITY,
        concealed=True,
    )
    edge_secrets: Annotated[
        tuple[tuple[str, SecretStr], ...],
        NoDecode,
        PlainValidator(_edge_secrets),
        Kind("secret: `kid:secret[,kid2:secret2]`"),
    ] = setting(
        DEV_EDGE_SECRETS,
        app("EDGE_SECRETS"),
        "HMAC keys of the edge-to-origin assertion (each at least 32 bytes; two during a "
        "rotation); the edge's `EDGE_ASSERTION_KEY_ID`:`EDGE_ASSERTION_SECRET` must be one.",
        section=IDENTITY,
        shown_default="a public development secret",
        concealed=True,
    )
    external_issuer: str | None = setting(
        None,
        app("EXTERNAL_ISSUER"),
        "Also accept tokens from an external identity provider (Auth0, Cloudflare Access, ...): "
        "its `iss`. Needs the next two as well.",
        section=IDENTITY,
    )
    external_audience: str | None = setting(
        None, app("EXTERNAL_AUDIENCE"), "The external provider's `aud`.", section=IDENTITY
    )
    external_jwks_url: Annotated[str | None, _from_text(_http_url), Kind("URL")] = setting(
        None,
        app("EXTERNAL_JWKS_URL"),
        "Where the external provider publishes its keys (`https://` in production).",
        section=IDENTITY,
    )
    login_attempts_per_account: Count = setting(
        10,
        app("LOGIN_ATTEMPTS_PER_ACCOUNT"),
        "Failed sign-ins per account before it is throttled.",
        section=IDENTITY,
    )
    login_attempts_per_address: Count = setting(
        100,
        app("LOGIN_ATTEMPTS_PER_ADDRESS"),
        "Failed sign-ins per client address before it is throttled.",
        section=IDENTITY,
    )

    # Cloudflare purges: read by the origin (whether writes record purges) and `outpost purger`.
    cloudflare_api_token: SecretStr | None = setting(
        None,
        "CLOUDFLARE_API_TOKEN",
        "A token with *Zone → Cache Purge → Purge* on the zone (not the CI deploy token). "
        "Unset: purging off.",
        section=PURGES,
        concealed=True,
    )
    cloudflare_zone_id: str | None = setting(
        None,
        "CLOUDFLARE_ZONE_ID",
        "The zone whose cache is purged (dashboard → the domain → Overview). Unset: purging off.",
        section=PURGES,
    )
    purge_plan: Annotated[PurgePlan, _from_text(str.lower)] = setting(
        "free",
        app("PURGE_PLAN"),
        "The plan's purge limits (Free: 5 requests/min, bucket 25, 100 tags per request; Pro: "
        "5/s, 25; Business: 10/s, 50; Enterprise: 50/s, 500).",
        section=PURGES,
    )
    purge_requests_per_minute: Annotated[
        float | None, _from_text(rules.positive_number), Kind("number")
    ] = setting(
        None,
        app("PURGE_REQUESTS_PER_MINUTE"),
        "Override the plan's sustained purge requests per minute.",
        section=PURGES,
        shown_default="the plan's",
    )
    purge_bucket: Annotated[int | None, _from_text(_count), Kind("whole number, 1 or more")] = (
        setting(
            None,
            app("PURGE_BUCKET"),
            "Override the plan's burst of purge requests.",
            section=PURGES,
            shown_default="the plan's",
        )
    )
    purge_batch: Annotated[
        int | None,
        _from_text(_bounded(1, MAX_PURGE_BATCH)),
        Kind(f"whole number (1-{MAX_PURGE_BATCH})"),
    ] = setting(
        None,
        app("PURGE_BATCH"),
        "Override the plan's tags per purge request.",
        section=PURGES,
        shown_default="the plan's",
    )
    purge_api_url: Annotated[str, _from_text(_http_url), Kind("URL")] = setting(
        CLOUDFLARE_API_URL,
        app("PURGE_API_URL"),
        "The API's base URL (tests point it at a local contract server).",
        section=PURGES,
    )
    purge_poll_interval: Seconds = setting(
        1.0,
        app("PURGE_POLL_INTERVAL"),
        "How long an idle purger waits before looking for new purges: the delay a purge waits "
        "at most while the budget lasts.",
        section=PURGES,
    )
    purge_timeout: Seconds = setting(
        10.0, app("PURGE_TIMEOUT"), "How long one purge request may take.", section=PURGES
    )
    purge_lease: Seconds = setting(
        60.0,
        app("PURGE_LEASE"),
        "How long a claimed batch stays a purger's own; a purger that died leaves its batch to "
        "the next after this. Longer than the timeout.",
        section=PURGES,
    )
    purge_backoff: Seconds = setting(
        1.0,
        app("PURGE_BACKOFF"),
        "The first back-off after a failed attempt; it doubles (with jitter) up to the longest.",
        section=PURGES,
    )
    purge_backoff_max: Seconds = setting(
        300.0, app("PURGE_BACKOFF_MAX"), "The longest back-off.", section=PURGES
    )
    purger_metrics_port: Annotated[int | None, _from_text(rules.port), Kind("port (0-65535)")] = (
        setting(
            None,
            app("PURGER_METRICS_PORT"),
            "Where `.venv/bin/outpost purger` serves `/metrics` (on the origin's host). "
            "Unset: nowhere.",
            section=PURGES,
        )
    )

    @classmethod
    def from_env(cls, dotenv: Path | None = None) -> Settings:
        """Settings from the process environment over ``dotenv`` (default: ``.env`` at the
        project root; a missing file is no error, a malformed line is)."""
        path = dotenv if dotenv is not None else DOTENV_FILE
        read_dotenv(path)  # only to refuse a malformed file, naming its line
        # _env_file is pydantic-settings' own option, unknown to mypy without pydantic's plugin.
        return _validated(lambda: cls(_env_file=path))  # type: ignore[call-arg]

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        """Settings from ``values`` alone, as if they were the whole environment (tests, tools)."""
        return _validated(lambda: cls.model_validate(dict(values)))

    @model_validator(mode="before")
    @classmethod
    def _prepared(cls, values: Any) -> Any:
        """Values are stripped, and an empty one is unset (the default applies), as in the edge.
        The default database lives under the data directory, which is a setting itself."""
        if not isinstance(values, dict):
            return values
        given = {
            name: value.strip() if isinstance(value, str) else value
            for name, value in values.items()
            if not (isinstance(value, str) and not value.strip())
        }
        data_dir = Path(given.get(app("DATA_DIR"), PROJECT_ROOT / "data"))
        given.setdefault("DATABASE_URL", f"sqlite:///{data_dir / 'outpost.db'}")
        return given

    @field_validator("database_url", mode="after")
    @classmethod
    def _database_driver(cls, value: str) -> str:
        return _driver_url(value)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """The checks that need several settings at once."""
        if self.refresh_token_ttl_seconds <= self.access_token_ttl_seconds:
            raise ValueError(
                f"{app('REFRESH_TOKEN_TTL')}={self.refresh_token_ttl_seconds} must be longer than "
                f"{app('ACCESS_TOKEN_TTL')}={self.access_token_ttl_seconds}"
            )
        external = {
            app("EXTERNAL_ISSUER"): self.external_issuer,
            app("EXTERNAL_AUDIENCE"): self.external_audience,
            app("EXTERNAL_JWKS_URL"): self.external_jwks_url,
        }
        missing = [name for name, value in external.items() if value is None]
        if missing and len(missing) != len(external):  # half an issuer cannot verify
            raise ValueError(
                f"an external issuer needs all of its settings; missing: {', '.join(missing)}"
            )
        if self.purge_lease <= self.purge_timeout:
            raise ValueError(
                f"{app('PURGE_LEASE')}={self.purge_lease:g} must be longer than "
                f"{app('PURGE_TIMEOUT')}={self.purge_timeout:g}: a batch must stay claimed while "
                "its request is under way"
            )
        if self.purge_backoff_max < self.purge_backoff:
            raise ValueError(f"{app('PURGE_BACKOFF_MAX')} must be at least {app('PURGE_BACKOFF')}")
        self.check_production_safety()
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def signing_keys_path(self) -> Path:
        """Where the keyring file is (``OUTPOST_SIGNING_KEYS_FILE``, default under the data dir)."""
        return self.signing_keys_file or self.data_dir / "keys" / "signing-keys.json"

    @property
    def signing_keys_json(self) -> str | None:
        """The inline keyring (``OUTPOST_SIGNING_KEYS``), revealed for the keyring's loader."""
        inline = self.signing_keys_inline
        return inline.get_secret_value() if inline is not None else None

    @property
    def edge_secret_map(self) -> dict[str, bytes]:
        """Assertion secrets by key id (two during a rotation)."""
        return {key_id: secret.get_secret_value().encode() for key_id, secret in self.edge_secrets}

    @property
    def purge(self) -> PurgeSettings:
        """What the outbox and the purge dispatcher are configured with."""
        plan = PLANS[self.purge_plan]
        per_minute = self.purge_requests_per_minute
        token = self.cloudflare_api_token
        return PurgeSettings(
            api_token=token.get_secret_value() if token is not None else None,
            zone_id=self.cloudflare_zone_id,
            api_url=self.purge_api_url,
            plan=self.purge_plan,
            limits=PlanLimits(
                requests_per_second=(per_minute or plan.requests_per_minute) / 60,
                bucket=self.purge_bucket or plan.bucket,
                operations_per_request=self.purge_batch or plan.operations_per_request,
            ),
            poll_interval_seconds=self.purge_poll_interval,
            lease_seconds=self.purge_lease,
            request_timeout_seconds=self.purge_timeout,
            backoff_first_seconds=self.purge_backoff,
            backoff_longest_seconds=self.purge_backoff_max,
            metrics_port=self.purger_metrics_port,
        )

    def check_production_safety(self) -> None:
        """Refuse production settings that only make sense on a developer's machine."""
        if not self.is_production:
            return
        problems = []
        if self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL points at SQLite; production needs PostgreSQL")
        if "*" in self.cors_origins:
            problems.append(f"{app('CORS_ORIGINS')} allows every origin ('*')")
        if any(secret.get_secret_value() == DEV_EDGE_SECRET for _, secret in self.edge_secrets):
            problems.append(
                f"{app('EDGE_SECRETS')} is the public development secret; set your own "
                "(kid:secret, at least 32 bytes, the same as the edge's EDGE_ASSERTION_SECRET)"
            )
        if self.signing_keys_inline is None and not self.signing_keys_path.is_file():
            problems.append(
                f"no signing keys: set {app('SIGNING_KEYS')} or create {self.signing_keys_path} "
                "with `outpost keys generate`"
            )
        if self.external_jwks_url is not None and not self.external_jwks_url.startswith("https://"):
            problems.append(f"{app('EXTERNAL_JWKS_URL')} must use https://")
        if problems:
            raise SettingsError(
                f"refusing to start with {app('ENV')}=production: " + "; ".join(problems)
            )


def variables() -> dict[str, FieldInfo]:
    """Every variable the origin reads, with its field (in the model's order)."""
    return {str(field.validation_alias): field for field in Settings.model_fields.values()}


def _validated(load: Callable[[], Settings]) -> Settings:
    """``load()``, with a validation failure turned into one line naming each variable."""
    try:
        return load()
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from None


def _one_line(error: ValidationError) -> str:
    concealed = {
        name
        for name, field in variables().items()
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("concealed")
    }
    problems = []
    for problem in error.errors(include_url=False):
        name = str(problem["loc"][0]) if problem["loc"] else ""
        context = problem.get("ctx") or {}
        if problem["type"] == "value_error":
            reason = str(context["error"])
        elif problem["type"] == "literal_error":
            reason = f"expected one of {context['expected']}"
        else:
            reason = problem["msg"]
        if not name:
            problems.append(reason)
        elif name in concealed:
            problems.append(f"{name}: {reason}")
        else:
            problems.append(f"{name}={problem['input']!r}: {reason}")
    return "; ".join(problems)


def _driver_url(url: str) -> str:
    """``url`` with the async driver for the URLs people usually write; :class:`ValueError` with
    what is wrong (never the URL itself: it may hold a password)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("must look like scheme://...")
    drivers = {
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
    }
    if scheme not in drivers:
        raise ValueError(f"scheme {scheme!r} is not supported; use postgresql:// or sqlite://")
    return f"{drivers[scheme]}://{rest}"


def normalise_database_url(url: str) -> str:
    """Select the async driver for the URLs people usually write (``postgresql://``, ``sqlite://``)."""
    try:
        return _driver_url(url)
    except ValueError as error:
        raise SettingsError(f"DATABASE_URL: {error}") from None


def read_dotenv(path: Path) -> dict[str, str]:
    """The ``KEY=value`` lines of a ``.env`` file (``#`` comments, blank lines and ``export``
    allowed; read as pydantic-settings reads it); a line that is none of these is refused."""
    from dotenv.parser import parse_stream

    if not path.is_file():
        return {}
    values = {}
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.error:
                raise SettingsError(
                    f"{path}:{binding.original.line}: expected KEY=value, "
                    f"got {binding.original.string.rstrip()!r}"
                )
            if binding.key is not None and binding.value is not None:
                values[binding.key] = binding.value
    return values
