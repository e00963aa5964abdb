"""Origin settings: read once from the environment (and an optional ``.env``), validated up front.

A bad value stops the process at start with a message naming the variable, rather than failing on
the first request that needs it. Well-known variables (``DATABASE_URL``, ``REDIS_URL``) keep their
usual names; the app's own carry the ``OUTPOST_`` prefix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "OUTPOST_"
ENVIRONMENTS = ("development", "test", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

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
    graceful_timeout_seconds: float = 10.0
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

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
            graceful_timeout_seconds=_parse(
                "OUTPOST_GRACEFUL_TIMEOUT", app("GRACEFUL_TIMEOUT"), 10.0, _positive_float
            ),
            data_dir=data_dir,
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
        if problems:
            raise SettingsError(
                "refusing to start with OUTPOST_ENV=production: " + "; ".join(problems)
            )


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
