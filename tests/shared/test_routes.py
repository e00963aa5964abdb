"""The route table (shared/routes.py): parsed once, matched the same way by the edge and origin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.routes import Auth, RouteTableInvalid, parse_route_table

SHIPPED = Path(__file__).resolve().parents[2] / "shared" / "policies" / "routes.json"

TABLE = parse_route_table(
    {
        "routes": [
            {"prefix": "/items", "methods": ["get", "HEAD"], "auth": "public"},
            {"prefix": "/items", "methods": ["POST"], "auth": "required", "roles": ["admin"]},
            {"prefix": "/me", "auth": "required"},
        ]
    }
)


def test_the_first_rule_naming_the_method_and_a_prefix_of_the_path_decides() -> None:
    assert TABLE.match("GET", "/items/7").auth is Auth.PUBLIC
    assert TABLE.match("POST", "/items").roles == {"admin"}
    assert TABLE.match("DELETE", "/me/sessions").auth is Auth.REQUIRED


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/itemsX"), ("PUT", "/items/7"), ("GET", "/elsewhere")]
)
def test_what_no_rule_names_is_no_route_and_public_by_default(method: str, path: str) -> None:
    rule = TABLE.match(method, path)

    assert (rule.known, rule.auth) == (False, Auth.PUBLIC)


def test_every_rule_a_table_lists_is_known() -> None:
    assert all(rule.known for rule in TABLE.rules)


def test_the_default_can_be_stricter() -> None:
    table = parse_route_table({"routes": [], "default": {"auth": "required", "roles": ["ops"]}})

    assert (table.default.auth, table.default.roles) == (Auth.REQUIRED, frozenset({"ops"}))


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"routes": {}}, '"routes" list'),
        ({"routes": [{"prefix": "x", "auth": "public"}]}, "starting with /"),
        ({"routes": [{"prefix": "/x", "auth": "sometimes"}]}, "public, optional or required"),
        ({"routes": [{"prefix": "/x", "auth": "public", "roles": ["a"]}]}, "only for required"),
        ({"routes": [{"prefix": "/x", "auth": "public", "methods": "GET"}]}, "list of method"),
        ({"routes": [{"prefix": "/x", "auth": "public", "rate": 1}]}, "unknown members rate"),
        ({"routes": [], "default": {"auth": "public", "prefix": "/x"}}, "only auth and roles"),
    ],
)
def test_a_table_that_cannot_work_is_refused_saying_where(
    document: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(RouteTableInvalid, match=complaint):
        parse_route_table(document)


def test_the_shipped_table_parses_and_names_methods_on_every_rule() -> None:
    table = parse_route_table(json.loads(SHIPPED.read_text(encoding="utf-8")))

    assert all(rule.methods for rule in table.rules)
    assert not table.default.known
