"""The route table: who may call what, the one set of rules the edge and the origin enforce.

Data (``shared/policies/routes.json``), matched by path prefix and method, first match wins. A
rule's ``auth`` is ``public`` (no token looked at; the edge does not forward ``Authorization``),
``optional`` (a token, if sent, must be valid) or ``required``, with ``roles`` that are all
needed. What no rule names gets the table's ``default`` and is not a route the table knows
(:attr:`RouteRule.known` is False): the edge forwards it without judging it, so the origin answers
404 or 405 before anything else could be learnt from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.geofence import path_has_prefix


class Auth(StrEnum):
    PUBLIC = "public"
    OPTIONAL = "optional"
    REQUIRED = "required"


class RouteTableInvalid(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class RouteRule:
    prefix: str
    methods: frozenset[str] | None
    auth: Auth
    roles: frozenset[str] = frozenset()
    known: bool = True
    """False for the table's default: a path and method no rule names."""

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return path_has_prefix(path, self.prefix)


@dataclass(frozen=True, slots=True)
class RouteTable:
    rules: tuple[RouteRule, ...]
    default: RouteRule

    def match(self, method: str, path: str) -> RouteRule:
        for rule in self.rules:
            if rule.matches(method, path):
                return rule
        return self.default


def parse_route_table(document: Mapping[str, Any]) -> RouteTable:
    if not isinstance(document, Mapping) or not isinstance(document.get("routes"), list):
        raise RouteTableInvalid('a route table is an object with a "routes" list')
    rules = tuple(_rule(item, f"routes[{i}]") for i, item in enumerate(document["routes"]))
    default = document.get("default", {"auth": Auth.PUBLIC.value})
    if not isinstance(default, Mapping):
        raise RouteTableInvalid("default must be an object")
    if set(default) - {"auth", "roles"}:
        raise RouteTableInvalid("default takes only auth and roles")
    return RouteTable(rules, _rule({**default, "prefix": "/"}, "default", known=False))


def _rule(item: Any, where: str, *, known: bool = True) -> RouteRule:
    if not isinstance(item, Mapping):
        raise RouteTableInvalid(f"{where}: a route is an object")
    unknown = set(item) - {"prefix", "methods", "auth", "roles"}
    if unknown:
        raise RouteTableInvalid(f"{where}: unknown members {', '.join(sorted(unknown))}")
    prefix = item.get("prefix")
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise RouteTableInvalid(f"{where}: prefix must be a path starting with /")
    try:
        auth = Auth(str(item.get("auth")))
    except ValueError:
        raise RouteTableInvalid(f"{where}: auth must be public, optional or required") from None
    methods = item.get("methods")
    roles = item.get("roles", [])
    if methods is not None and not _strings(methods):
        raise RouteTableInvalid(f"{where}: methods must be a list of method names")
    if not _strings(roles) or (roles and auth is not Auth.REQUIRED):
        raise RouteTableInvalid(f"{where}: roles are a list, and only for required auth")
    return RouteRule(
        prefix=prefix,
        methods=None if methods is None else frozenset(m.upper() for m in methods),
        auth=auth,
        roles=frozenset(roles),
        known=known,
    )


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)
