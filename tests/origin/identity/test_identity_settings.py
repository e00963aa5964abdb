"""Identity settings: read from OUTPOST_* variables, refused early, and safe in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from origin.identity.keys import Keyring, generate_key
from origin.settings import DEV_EDGE_SECRET, Settings, SettingsError

EDGE_SECRET = "k1:" + "s" * 40
PRODUCTION = {"OUTPOST_ENV": "production", "DATABASE_URL": "postgresql://db/app"}


def test_defaults_issue_short_lived_tokens_for_a_local_origin(tmp_path: Path) -> None:
    settings = Settings.from_mapping({"OUTPOST_DATA_DIR": str(tmp_path)})

    assert settings.jwt_issuer == "http://127.0.0.1:8000"
    assert settings.jwt_audience == "outpost"
    assert settings.access_token_ttl_seconds == 900
    assert settings.refresh_token_ttl_seconds > settings.access_token_ttl_seconds
    assert settings.signing_keys_path == tmp_path / "keys" / "signing-keys.json"
    assert settings.edge_secret_map == {"dev": DEV_EDGE_SECRET.encode()}
    assert settings.external_issuer is None


def test_identity_variables_are_read(tmp_path: Path) -> None:
    settings = Settings.from_mapping(
        {
            "OUTPOST_JWT_ISSUER": "https://api.example",
            "OUTPOST_JWT_AUDIENCE": "shop",
            "OUTPOST_ACCESS_TOKEN_TTL": "300",
            "OUTPOST_REFRESH_TOKEN_TTL": "86400",
            "OUTPOST_SIGNING_KEYS_FILE": str(tmp_path / "k.json"),
            "OUTPOST_EDGE_SECRETS": f"{EDGE_SECRET}, k2:{'t' * 32}",
            "OUTPOST_EXTERNAL_ISSUER": "https://idp.example/",
            "OUTPOST_EXTERNAL_AUDIENCE": "shop-api",
            "OUTPOST_EXTERNAL_JWKS_URL": "https://idp.example/.well-known/jwks.json",
        }
    )

    assert (settings.jwt_issuer, settings.jwt_audience) == ("https://api.example", "shop")
    assert (settings.access_token_ttl_seconds, settings.refresh_token_ttl_seconds) == (300, 86400)
    assert settings.signing_keys_path == tmp_path / "k.json"
    assert settings.edge_secret_map == {"k1": b"s" * 40, "k2": b"t" * 32}
    assert settings.external_audience == "shop-api"


def test_secrets_stay_out_of_the_settings_repr() -> None:
    settings = Settings.from_mapping({"OUTPOST_EDGE_SECRETS": EDGE_SECRET})

    assert "s" * 40 not in repr(settings)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"OUTPOST_EDGE_SECRETS": "k1:short"}, "shorter than 32 bytes"),
        ({"OUTPOST_EDGE_SECRETS": "no-colon-here" * 4}, "kid:secret"),
        ({"OUTPOST_EDGE_SECRETS": f"bad kid:{'s' * 40}"}, "kid:secret"),
        ({"OUTPOST_EDGE_SECRETS": f"{EDGE_SECRET},{EDGE_SECRET}"}, "given twice"),
        ({"OUTPOST_ACCESS_TOKEN_TTL": "0"}, "between 1 and 86400"),
        ({"OUTPOST_ACCESS_TOKEN_TTL": "600", "OUTPOST_REFRESH_TOKEN_TTL": "600"}, "longer than"),
        ({"OUTPOST_JWT_LEEWAY": "3600"}, "between 0 and 300"),
        ({"OUTPOST_EXTERNAL_ISSUER": "https://idp.example/"}, "missing: OUTPOST_EXTERNAL_AUD"),
        (
            {
                "OUTPOST_EXTERNAL_ISSUER": "https://idp.example/",
                "OUTPOST_EXTERNAL_AUDIENCE": "a",
                "OUTPOST_EXTERNAL_JWKS_URL": "ftp://idp.example/jwks",
            },
            "http",
        ),
        ({"OUTPOST_LOGIN_ATTEMPTS_PER_ACCOUNT": "0"}, "positive"),
    ],
)
def test_a_bad_identity_setting_is_refused_with_the_variable_named(
    values: dict[str, str], complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint):
        Settings.from_mapping(values)


def test_production_refuses_the_development_edge_secret_and_a_missing_keyring(
    tmp_path: Path,
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_mapping({**PRODUCTION, "OUTPOST_DATA_DIR": str(tmp_path)})

    message = str(raised.value)
    assert "OUTPOST_EDGE_SECRETS is the public development secret" in message
    assert "no signing keys" in message
    assert "outpost keys generate" in message


def test_production_refuses_a_jwks_fetched_without_tls(tmp_path: Path) -> None:
    keyring = Keyring((generate_key("ES256", now=1),)).to_json()
    with pytest.raises(SettingsError, match="must use https"):
        Settings.from_mapping(
            {
                **PRODUCTION,
                "OUTPOST_EDGE_SECRETS": EDGE_SECRET,
                "OUTPOST_SIGNING_KEYS": keyring,
                "OUTPOST_EXTERNAL_ISSUER": "https://idp.example/",
                "OUTPOST_EXTERNAL_AUDIENCE": "a",
                "OUTPOST_EXTERNAL_JWKS_URL": "http://idp.example/jwks",
            }
        )


def test_production_starts_with_its_own_secret_and_keys(tmp_path: Path) -> None:
    keyring = Keyring((generate_key("ES256", now=1),)).to_json()

    settings = Settings.from_mapping(
        {**PRODUCTION, "OUTPOST_EDGE_SECRETS": EDGE_SECRET, "OUTPOST_SIGNING_KEYS": keyring}
    )

    assert settings.is_production
    assert settings.signing_keys_json == keyring.strip()
