"""Geofencing: which requests a policy refuses, decided from the caller's location and the route.

A policy is data (``shared/policies/geofence.json``), loaded by the edge and by the origin, so the
origin re-checks with the country the edge signed into its assertion and a request that bypasses
the edge cannot bypass the geofence. Rules are tried in order and the first that matches decides;
every decision names its rule, so a refusal (451) says exactly which part of the policy applied::

    {"name": "embargoed-countries", "effect": "deny",
     "routes": [{"prefix": "/api/orders", "methods": ["POST"]}],      # optional: every route
     "from": {"countries": ["CU"], "continents": ["AS"], "eu": true},  # optional: any location
     "description": "..."}

``from`` matches when *any* of its selectors does. Locations Cloudflare cannot place are ``XX``
(unknown) and ``T1`` (Tor); they have no continent and are not in the EU, so only a rule that
names them (or matches any location) applies to them: a policy handles them on purpose, never by
accident. A missing country (nobody trusted established one) is judged as ``XX``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

UNKNOWN_COUNTRY = "XX"
TOR_COUNTRY = "T1"
# Places no continent or EU selector covers: only rules naming them (or any location) apply.
UNPLACEABLE = frozenset({UNKNOWN_COUNTRY, TOR_COUNTRY})
ALLOW = "allow"
DENY = "deny"
CONTINENTS = frozenset({"AF", "AN", "AS", "EU", "NA", "OC", "SA"})

# ISO 3166-1 alpha-2 codes by continent (the codes Cloudflare's request.cf.continent uses), plus
# XK (Kosovo), which Cloudflare also reports. Used where the runtime gives only a country (local
# mode, the origin's re-check); in production Cloudflare states continent and EU membership itself.
_CONTINENT_MEMBERS = {
    "AF": "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY "
    "MG MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW",
    "AN": "AQ BV GS HM TF",
    "AS": "AF AM AZ BH BD BT BN KH CN GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN MM NP "
    "KP OM PK PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE IO CX CC",
    "EU": "AX AL AD AT BY BE BA BG HR CY CZ DK EE FO FI FR DE GI GR GG VA HU IS IE IM IT JE XK LV "
    "LI LT LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB",
    "NA": "AI AG AW BS BB BZ BM BQ VG CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA "
    "PR BL KN LC MF PM VC SX TT TC US VI UM",
    "OC": "AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF",
    "SA": "AR BO BR CL CO EC FK GF GY PY PE SR UY VE",
}
CONTINENT_OF = {
    country: continent
    for continent, members in _CONTINENT_MEMBERS.items()
    for country in members.split()
}
_EU_MEMBERS = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
EU_MEMBERS = frozenset(_EU_MEMBERS.split())

_COUNTRY_CODE = re.compile(r"[A-Z][A-Z0-9]")
_METHOD = re.compile(r"[A-Z]{1,16}")
_RULE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_RULE_MEMBERS = frozenset({"name", "effect", "routes", "from", "description"})
_FROM_MEMBERS = frozenset({"countries", "continents", "eu"})
_ROUTE_MEMBERS = frozenset({"prefix", "methods"})


class PolicyInvalid(ValueError):
    """The policy document cannot be used; the message says where."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a request comes from, as a trusted party (Cloudflare, local mode) established it."""

    country: str | None
    continent: str | None = None
    is_eu: bool = False

    @property
    def judged_country(self) -> str:
        return self.country or UNKNOWN_COUNTRY


def location_of_country(country: str | None) -> Location:
    """A location from a country code alone (continent and EU membership from the tables)."""
    if country is None or _COUNTRY_CODE.fullmatch(country) is None:
        return Location(country=None)
    return Location(country, CONTINENT_OF.get(country), country in EU_MEMBERS)


def is_country_code(value: str) -> bool:
    return _COUNTRY_CODE.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class RouteMatch:
    prefix: str
    methods: frozenset[str] | None  # None: every method

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return path_has_prefix(path, self.prefix)


@dataclass(frozen=True, slots=True)
class LocationMatch:
    countries: frozenset[str] = frozenset()
    continents: frozenset[str] = frozenset()
    eu: bool | None = None

    def matches(self, location: Location) -> bool:
        country = location.judged_country
        if country in self.countries:
            return True
        if country in UNPLACEABLE:
            return False
        if location.continent is not None and location.continent in self.continents:
            return True
        return self.eu is not None and location.is_eu == self.eu


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    effect: str
    routes: tuple[RouteMatch, ...] = ()  # empty: every route
    source: LocationMatch | None = None  # None: every location
    description: str = ""

    def applies(self, method: str, path: str, location: Location) -> bool:
        if self.routes and not any(route.matches(method, path) for route in self.routes):
            return False
        return self.source is None or self.source.matches(location)


@dataclass(frozen=True, slots=True)
class GeofencePolicy:
    name: str
    rules: tuple[Rule, ...]
    default: Rule


@dataclass(frozen=True, slots=True)
class GeofenceDecision:
    allowed: bool
    policy: str
    rule: str
    description: str
    country: str


def evaluate(
    policy: GeofencePolicy, method: str, path: str, location: Location
) -> GeofenceDecision:
    """The first rule that applies decides; the policy's default when none does."""
    chosen = next(
        (rule for rule in policy.rules if rule.applies(method, path, location)), policy.default
    )
    return GeofenceDecision(
        allowed=chosen.effect == ALLOW,
        policy=policy.name,
        rule=chosen.name,
        description=chosen.description,
        country=location.judged_country,
    )


def path_has_prefix(path: str, prefix: str) -> bool:
    """``/api/orders`` covers ``/api/orders`` and ``/api/orders/7``, not ``/api/ordersX``."""
    if prefix == "/":
        return True
    trimmed = prefix.rstrip("/")
    return path == trimmed or path.startswith(trimmed + "/")


def parse_policy(document: Mapping[str, Any]) -> GeofencePolicy:
    """Validate a policy document (already decoded from JSON); raise :class:`PolicyInvalid`."""
    if not isinstance(document, Mapping):
        raise PolicyInvalid("a policy is a JSON object")
    name = document.get("policy")
    if not isinstance(name, str) or _RULE_NAME.fullmatch(name) is None:
        raise PolicyInvalid('"policy" must be a short lowercase name')
    rules = document.get("rules")
    if not isinstance(rules, list):
        raise PolicyInvalid('"rules" must be a list')
    parsed = tuple(_rule(item, f"rules[{index}]") for index, item in enumerate(rules))
    names = [rule.name for rule in parsed]
    if len(set(names)) != len(names):
        raise PolicyInvalid("rule names must be unique")
    default = _rule(document.get("default"), "default")
    if default.routes or default.source is not None:
        raise PolicyInvalid("the default rule applies everywhere: no routes, no from")
    if default.name in names:
        raise PolicyInvalid("the default rule needs a name of its own")
    return GeofencePolicy(name=name, rules=parsed, default=default)


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, Mapping):
        raise PolicyInvalid(f"{where}: a rule is an object")
    _only(item, _RULE_MEMBERS, where)
    name = item.get("name")
    if not isinstance(name, str) or _RULE_NAME.fullmatch(name) is None:
        raise PolicyInvalid(f"{where}: name must be a short lowercase name")
    effect = item.get("effect")
    if effect not in (ALLOW, DENY):
        raise PolicyInvalid(f"{where}: effect must be allow or deny")
    description = item.get("description", "")
    if not isinstance(description, str):
        raise PolicyInvalid(f"{where}: description must be text")
    routes = item.get("routes", [])
    if not isinstance(routes, list):
        raise PolicyInvalid(f"{where}: routes must be a list")
    source = item.get("from")
    return Rule(
        name=name,
        effect=effect,
        routes=tuple(_route(route, f"{where}.routes[{i}]") for i, route in enumerate(routes)),
        source=None if source is None else _location_match(source, f"{where}.from"),
        description=description,
    )


def _route(item: Any, where: str) -> RouteMatch:
    if not isinstance(item, Mapping):
        raise PolicyInvalid(f"{where}: a route is an object")
    _only(item, _ROUTE_MEMBERS, where)
    prefix = item.get("prefix")
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise PolicyInvalid(f"{where}: prefix must be a path starting with /")
    methods = item.get("methods")
    if methods is None:
        return RouteMatch(prefix, None)
    return RouteMatch(prefix, frozenset(_codes(methods, _METHOD, f"{where}.methods")))


def _location_match(item: Any, where: str) -> LocationMatch:
    if not isinstance(item, Mapping):
        raise PolicyInvalid(f"{where}: from is an object")
    _only(item, _FROM_MEMBERS, where)
    if not item:
        raise PolicyInvalid(f"{where}: name countries, continents or eu (or leave from out)")
    continents = frozenset(_optional_codes(item, "continents", _COUNTRY_CODE, where))
    if not continents <= CONTINENTS:
        raise PolicyInvalid(f"{where}: unknown continent code")
    eu = item.get("eu")
    if eu is not None and not isinstance(eu, bool):
        raise PolicyInvalid(f"{where}: eu must be true or false")
    return LocationMatch(
        countries=frozenset(_optional_codes(item, "countries", _COUNTRY_CODE, where)),
        continents=continents,
        eu=eu,
    )


def _codes(values: Any, pattern: re.Pattern[str], where: str) -> Iterable[str]:
    if not isinstance(values, list) or not values:
        raise PolicyInvalid(f"{where}: expected a non-empty list of codes")
    for value in values:
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise PolicyInvalid(f"{where}: {value!r} is not a valid code")
    return values


def _optional_codes(
    item: Mapping[str, Any], name: str, pattern: re.Pattern[str], where: str
) -> Iterable[str]:
    return _codes(item[name], pattern, f"{where}.{name}") if name in item else ()


def _only(item: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = set(item) - allowed
    if unknown:
        # A misspelt selector must not silently widen a rule to every location.
        raise PolicyInvalid(f"{where}: unknown members {', '.join(sorted(unknown))}")
