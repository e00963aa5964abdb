"""Settings are read from the environment and .env, and refused early when they cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from origin.identity.keys import Keyring, generate_key
from origin.settings import Settings, SettingsError, normalise_database_url, read_dotenv


def test_defaults_give_a_local_sqlite_database_and_no_redis(tmp_path: Path) -> None:
    settings = Settings.from_mapping({"OUTPOST_DATA_DIR": str(tmp_path)})

    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'outpost.db'}"
    assert settings.redis_url is None
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert settings.environment == "development"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db/app", "postgresql+asyncpg://u:p@db/app"),
        ("postgres://db/app", "postgresql+asyncpg://db/app"),
        ("sqlite:////var/app.db", "sqlite+aiosqlite:////var/app.db"),
        ("postgresql+asyncpg://db/app", "postgresql+asyncpg://db/app"),
    ],
)
def test_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("OUTPOST_PORT", "eighty", "OUTPOST_PORT='eighty'"),
        ("OUTPOST_PORT", "70000", "between 0 and 65535"),
        ("OUTPOST_WORKERS", "0", "positive"),
        ("OUTPOST_MAX_BODY_BYTES", "-5", "positive"),
        ("OUTPOST_LOG_LEVEL", "chatty", "expected one of"),
        ("OUTPOST_ENV", "staging", "expected one of"),
        ("DATABASE_URL", "mysql://db/app", "not supported"),
        ("DATABASE_URL", "just-a-name", "scheme://"),
        ("REDIS_URL", "localhost:6379", "redis://"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_named(
    variable: str, value: str, complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint) as raised:
        Settings.from_mapping({variable: value})
    assert variable in str(raised.value) or "DATABASE_URL" in str(raised.value)


def test_production_refuses_development_settings() -> None:
    with pytest.raises(SettingsError, match="SQLite") as raised:
        Settings.from_mapping({"OUTPOST_ENV": "production", "OUTPOST_CORS_ORIGINS": "*"})
    assert "every origin" in str(raised.value)


def test_production_starts_with_production_settings() -> None:
    settings = Settings.from_mapping(
        {
            "OUTPOST_ENV": "production",
            "DATABASE_URL": "postgresql://db/app",
            "OUTPOST_EDGE_SECRETS": "k1:" + "s" * 40,
            "OUTPOST_SIGNING_KEYS": Keyring((generate_key("ES256", now=1),)).to_json(),
        }
    )
    assert settings.is_production


def test_the_environment_overrides_the_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# local settings\nexport OUTPOST_PORT=9000\nOUTPOST_LOG_LEVEL='debug'\n\n"
        'OUTPOST_CORS_ORIGINS="https://a.example, https://b.example"\n'
    )

    settings = Settings.from_env({"OUTPOST_PORT": "9100"}, dotenv=dotenv)

    assert settings.port == 9100
    assert settings.log_level == "DEBUG"
    assert settings.cors_origins == ("https://a.example", "https://b.example")


def test_a_malformed_dotenv_line_is_reported_with_its_line_number(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("OUTPOST_PORT=1\nthis is not a setting\n")

    with pytest.raises(SettingsError, match=r"\.env:2"):
        read_dotenv(dotenv)
