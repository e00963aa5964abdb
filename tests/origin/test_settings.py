"""Settings are read from the environment and .env, and refused early when they cannot work."""

from __future__ import annotations

import os
from pathlib import Path
from typing import get_args

import pytest
from pydantic import SecretStr

from origin.identity.keys import Keyring, generate_key
from origin.purge.limits import PLANS
from origin.settings import (
    PurgePlan,
    Settings,
    SettingsError,
    normalise_database_url,
    read_dotenv,
)


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
        ("OUTPOST_DB_POOL_SIZE", "0", "between 1 and 1000"),
        ("OUTPOST_DB_POOL_SIZE", "5000", "between 1 and 1000"),
        ("OUTPOST_DB_POOL_SIZE", "many", "OUTPOST_DB_POOL_SIZE='many'"),
        ("OUTPOST_DB_MAX_OVERFLOW", "-1", "between 0 and 1000"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_named(
    variable: str, value: str, complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint) as raised:
        Settings.from_mapping({variable: value})
    assert variable in str(raised.value) or "DATABASE_URL" in str(raised.value)


def test_the_database_pool_is_sized_for_a_worker_under_concurrent_load() -> None:
    default = Settings.from_mapping({})
    # The fixed pool of 5 made 8 concurrent clients open and close connections (issue #15).
    assert default.db_pool_size >= 8
    assert default.db_max_overflow >= 0
    chosen = Settings.from_mapping({"OUTPOST_DB_POOL_SIZE": "3", "OUTPOST_DB_MAX_OVERFLOW": "0"})
    assert (chosen.db_pool_size, chosen.db_max_overflow) == (3, 0)


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


def test_the_environment_overrides_the_dotenv_file_which_overrides_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OUTPOST_PORT", "OUTPOST_LOG_LEVEL", "OUTPOST_CORS_ORIGINS", "OUTPOST_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# local settings\nexport OUTPOST_PORT=9000\nOUTPOST_LOG_LEVEL='debug'\n\n"
        'OUTPOST_CORS_ORIGINS="https://a.example, https://b.example"\n'
        "OUTPOST_DATA_DIR=" + str(tmp_path) + "\n"
    )
    monkeypatch.setenv("OUTPOST_PORT", "9100")

    settings = Settings.from_env(dotenv=dotenv)

    assert settings.port == 9100
    assert settings.log_level == "DEBUG"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.workers == 1
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'outpost.db'}"


def test_a_malformed_dotenv_file_stops_the_start(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("OUTPOST_PORT=1\nthis is not a setting\n")

    with pytest.raises(SettingsError, match=r"\.env:2: expected KEY=value"):
        Settings.from_env(dotenv=dotenv)


def test_a_bad_value_in_the_environment_is_refused_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OUTPOST_WORKERS", "many")

    with pytest.raises(SettingsError, match="OUTPOST_WORKERS='many'"):
        Settings.from_env(dotenv=tmp_path / "no.env")


def test_a_blank_value_means_unset() -> None:
    settings = Settings.from_mapping({"OUTPOST_PORT": "  ", "OUTPOST_HOST": " ::1 "})

    assert (settings.port, settings.host) == (8000, "::1")


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1"])
def test_a_duration_is_positive_and_finite_as_at_the_edge(value: str) -> None:
    # The rule the edge follows too (shared/settings_rules.py; tests/edge/test_config.py).
    with pytest.raises(SettingsError, match=f"OUTPOST_GRACEFUL_TIMEOUT='{value}': must be a"):
        Settings.from_mapping({"OUTPOST_GRACEFUL_TIMEOUT": value})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OUTPOST_EDGE_SECRETS", "k1:hunter2-too-short"),
        ("DATABASE_URL", "mysql://user:hunter2-secret@db/app"),
        ("REDIS_URL", "localhost:6379?password=hunter2-secret"),
    ],
)
def test_a_refused_secret_is_not_repeated(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable) as raised:
        Settings.from_mapping({variable: value})
    assert "hunter2" not in str(raised.value)


def test_secrets_are_secret_strings() -> None:
    settings = Settings.from_mapping(
        {"OUTPOST_SIGNING_KEYS": '{"keys": []}', "CLOUDFLARE_API_TOKEN": "cf-token"}
    )

    assert isinstance(settings.signing_keys_inline, SecretStr)
    assert isinstance(settings.cloudflare_api_token, SecretStr)
    assert "cf-token" not in repr(settings)
    assert settings.signing_keys_json == '{"keys": []}'
    assert settings.purge.api_token == "cf-token"


def test_several_bad_values_are_reported_on_one_line() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_mapping({"OUTPOST_PORT": "-1", "OUTPOST_WORKERS": "0"})

    message = str(raised.value)
    assert "\n" not in message
    assert "OUTPOST_PORT='-1'" in message
    assert "OUTPOST_WORKERS='0'" in message


def test_the_purge_plans_are_the_plans_the_limits_know() -> None:
    assert set(get_args(PurgePlan)) == set(PLANS)


def test_a_malformed_dotenv_line_is_reported_with_its_line_number(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("OUTPOST_PORT=1\nthis is not a setting\n")

    with pytest.raises(SettingsError, match=r"\.env:2"):
        read_dotenv(dotenv)


def test_the_environment_gives_the_settings_a_mapping_of_the_same_values_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = '{"policy": "inline", "rules": [], "default": {"name": "open", "effect": "allow"}}'
    values = {
        "OUTPOST_DATA_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "OUTPOST_CORS_ORIGINS": "https://a.example, https://b.example",
        "OUTPOST_EDGE_SECRETS": f"k1:{'s' * 32},k2:{'t' * 32}",
        "OUTPOST_GEOFENCE_POLICY": policy,
        "OUTPOST_RESPONSE_CACHE": "off",
        "OUTPOST_GRACEFUL_TIMEOUT": "2.5",
        "OUTPOST_SIGNING_KEYS_FILE": str(tmp_path / "keys.json"),
        "OUTPOST_PURGE_BATCH": "30",
        "OUTPOST_PURGER_METRICS_PORT": "9100",
        "CLOUDFLARE_API_TOKEN": "cf-token",
    }
    for name in list(os.environ):
        if name.startswith(("OUTPOST_", "CLOUDFLARE_")) or name in ("DATABASE_URL", "REDIS_URL"):
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    from_environment = Settings.from_env(dotenv=tmp_path / "none.env")

    assert from_environment == Settings.from_mapping(values)
    assert from_environment.cors_origins == ("https://a.example", "https://b.example")
    assert from_environment.geofence_policy is not None
    assert from_environment.purge.limits.operations_per_request == 30
    assert set(from_environment.edge_secret_map) == {"k1", "k2"}
