"""The development secrets a new app gets in its .env."""

from __future__ import annotations

import secrets

from templating.dev_env import development_env
from templating.names import AppName


def settings(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_origin_and_edge_share_one_fresh_assertion_secret_under_the_apps_prefix() -> None:
    values = settings(development_env(AppName("my-shop"), lambda size: "s" * size))
    assert values == {
        "MY_SHOP_EDGE_SECRETS": "dev:" + "s" * 32,
        "EDGE_ASSERTION_KEY_ID": "dev",
        "EDGE_ASSERTION_SECRET": "s" * 32,
    }


def test_each_call_draws_a_new_secret() -> None:
    name = AppName("my-shop")
    first = settings(development_env(name, secrets.token_urlsafe))["EDGE_ASSERTION_SECRET"]
    second = settings(development_env(name, secrets.token_urlsafe))["EDGE_ASSERTION_SECRET"]
    assert first != second
    assert len(first.encode()) >= 32  # what the origin's settings demand
