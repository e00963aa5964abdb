"""The edge's configuration, from its environment: defaults, validation, and the guard rails
that keep test and development settings out of production."""

from __future__ import annotations

import json

import pytest

from edge.config import LOCAL_DEVELOPMENT_SECRET, ConfigError, EdgeConfig, Mode
from shared.routes import Auth

SECRET = "s" * 32
BASE = {"ORIGIN_URL": "https://origin.example.com", "EDGE_ASSERTION_SECRET": SECRET}


def config(**changes: str) -> EdgeConfig:
    return EdgeConfig.from_env({**BASE, **changes})


def test_defaults_are_production_mode_with_the_origin_as_issuer_and_jwks_source() -> None:
    loaded = config()

    assert loaded.mode is Mode.PRODUCTION
    assert loaded.token_policy.issuer == "https://origin.example.com"
    assert loaded.token_policy.audience == "outpost"
    assert loaded.jwks_url == "https://origin.example.com/.well-known/jwks.json"
    assert loaded.geofence.name == "outpost-demo"
    assert loaded.routes.match("POST", "/api/orders").auth is Auth.REQUIRED  # template:demo
    # template:no-demo: assert loaded.routes.match("POST", "/auth/logout").auth is Auth.REQUIRED
    assert "HS256" not in loaded.token_policy.algorithms


def test_wrangler_style_vars_configure_the_edge() -> None:
    loaded = config(
        EDGE_MODE="local",
        JWT_ISSUER="https://issuer.test",
        JWT_AUDIENCE="shop",
        JWKS_URL="https://keys.test/jwks.json",
        JWT_ALGORITHMS="ES256, EdDSA",
        ORIGIN_TIMEOUT_SECONDS="2.5",
        CACHE_IGNORED_QUERY_PARAMETERS="ref,utm_*",
    )

    assert loaded.is_local
    assert loaded.token_policy.algorithms == frozenset({"ES256", "EdDSA"})
    assert (loaded.jwks_url, loaded.origin_timeout_seconds) == ("https://keys.test/jwks.json", 2.5)
    assert loaded.ignored_query_parameters == ("ref", "utm_*")


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"ORIGIN_URL": ""}, "ORIGIN_URL is required"),
        ({"ORIGIN_URL": "ftp://origin"}, "http"),
        ({"ORIGIN_URL": "https://origin/api"}, "without a path"),
        ({"EDGE_ASSERTION_SECRET": ""}, "EDGE_ASSERTION_SECRET is required"),
        ({"EDGE_ASSERTION_SECRET": "short"}, "at least 32 bytes"),
        ({"EDGE_MODE": "staging"}, "EDGE_MODE"),
        ({"JWT_ALGORITHMS": "ES256,HS256"}, "asymmetric"),
        ({"JWT_ALGORITHMS": "none"}, "unsupported"),
        ({"ORIGIN_TIMEOUT_SECONDS": "0"}, "positive"),
        ({"EDGE_FIXED_TIME": "1750000000"}, "local mode"),
        ({"GEOFENCE_POLICY": '{"policy": "x"}'}, "GEOFENCE_POLICY"),
        ({"EDGE_ROUTES": '{"routes": [{"prefix": "/x", "auth": "sometimes"}]}'}, "EDGE_ROUTES"),
        ({"EDGE_MAX_URL_BYTES": "10"}, "at least 256"),
    ],
)
def test_bad_settings_stop_the_edge_with_the_variable_named(
    env: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigError, match=complaint):
        config(**env)


def test_local_mode_runs_without_a_secret_on_the_public_development_one() -> None:
    loaded = EdgeConfig.from_env({"ORIGIN_URL": "http://127.0.0.1:8000", "EDGE_MODE": "local"})

    assert loaded.assertion_secret == LOCAL_DEVELOPMENT_SECRET.encode()
    assert loaded.assertion_key_id == "dev"


def test_the_local_development_secret_matches_the_origin_default() -> None:
    from origin.settings import Settings

    assert Settings.from_mapping({}).edge_secret_map == {"dev": LOCAL_DEVELOPMENT_SECRET.encode()}


@pytest.mark.parametrize(
    "variable", ["ORIGIN_TIMEOUT_SECONDS", "JWKS_MAX_AGE_SECONDS", "JWKS_REFETCH_INTERVAL_SECONDS"]
)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-1"])
def test_a_duration_is_positive_and_finite(variable: str, value: str) -> None:
    # The same rule as the origin's durations (shared/settings_rules.py), tested there too.
    with pytest.raises(ConfigError, match=f"{variable}='{value}': must be a"):
        config(**{variable: value})


def test_a_size_below_the_smallest_limit_is_refused() -> None:
    with pytest.raises(ConfigError, match="EDGE_MAX_BODY_BYTES='255': must be at least 256"):
        config(EDGE_MAX_BODY_BYTES="255")
    assert config(EDGE_MAX_BODY_BYTES="256").limits.max_body_bytes == 256


def test_production_refuses_the_public_development_secret() -> None:
    with pytest.raises(ConfigError, match="public development secret"):
        config(EDGE_ASSERTION_SECRET=LOCAL_DEVELOPMENT_SECRET)


def test_a_fixed_time_is_accepted_in_local_mode() -> None:
    assert config(EDGE_MODE="local", EDGE_FIXED_TIME="1750000000").fixed_time == 1_750_000_000


def test_policy_and_routes_can_be_given_inline() -> None:
    policy = {
        "policy": "inline",
        "rules": [],
        "default": {"name": "closed", "effect": "deny"},
    }
    routes = {"routes": [{"prefix": "/", "auth": "required"}]}

    loaded = config(GEOFENCE_POLICY=json.dumps(policy), EDGE_ROUTES=json.dumps(routes))

    assert loaded.geofence.default.name == "closed"
    assert loaded.routes.match("GET", "/healthz").auth is Auth.REQUIRED


@pytest.mark.parametrize(
    ("method", "path", "auth", "roles"),
    [
        ("GET", "/api/products", Auth.PUBLIC, set()),  # template:demo
        ("HEAD", "/api/products/3", Auth.PUBLIC, set()),  # template:demo
        ("POST", "/api/products", Auth.REQUIRED, {"admin"}),  # template:demo
        ("DELETE", "/api/products/3", Auth.REQUIRED, {"admin"}),  # template:demo
        ("GET", "/api/orders/9", Auth.REQUIRED, set()),  # template:demo
        ("GET", "/auth/me", Auth.REQUIRED, set()),
        ("POST", "/auth/token", Auth.OPTIONAL, set()),
        ("GET", "/metrics", Auth.REQUIRED, {"admin"}),
        ("GET", "/.well-known/jwks.json", Auth.PUBLIC, set()),
    ],
)
def test_the_route_table_covers_the_demo_api(
    method: str, path: str, auth: Auth, roles: set[str]
) -> None:
    rule = config().routes.match(method, path)

    assert (rule.auth, set(rule.roles), rule.known) == (auth, roles, True)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/somewhere/else"), ("PUT", "/auth/me"), ("DELETE", "/healthz")],
)
def test_what_the_route_table_does_not_name_is_no_route(method: str, path: str) -> None:
    rule = config().routes.match(method, path)

    assert (rule.auth, rule.known) == (Auth.PUBLIC, False)
