"""The origin's own geofence check: the same policy as the edge, on the country it can trust.

The edge refuses most requests it should refuse before they travel; the origin checks again so
that a request which reaches it around the edge cannot get around the policy. The country is
the one in a valid edge assertion (or the caller's principal); a request nobody vouched for has
no country, and the policy treats it as unknown (``XX``). Nothing a client sends is taken for
its location.

The check runs once a request has found its route and its caller is known (see
:mod:`origin.middleware.route_checks`): a request for a route or method that does not exist, or
without the credentials its route needs, never learns the policy.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request

from origin.errors import ApiError
from origin.middleware.route_checks import RouteCheck
from origin.observability.openapi import Answer, Responses
from origin.principals import whereabouts
from shared.geofence import GeofencePolicy, evaluate, location_of_country, parse_policy
from shared.settings_rules import GEOFENCE_POLICY_FILE

UNFENCED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def load_policy(path: Path = GEOFENCE_POLICY_FILE) -> GeofencePolicy:
    return parse_policy(json.loads(path.read_text(encoding="utf-8")))


def geofence_check(policy: GeofencePolicy) -> RouteCheck:
    """451 (naming the policy, the rule and the country) for what ``policy`` refuses."""

    async def enforce_geofence(request: Request) -> None:
        path = request.scope["path"]
        if path in UNFENCED_PATHS:
            return
        country = (await whereabouts(request)).country
        decision = evaluate(policy, request.method, path, location_of_country(country))
        if not decision.allowed:
            raise ApiError(
                451,
                "unavailable_for_legal_reasons",
                decision.description or "this is not available from your location",
                headers={"Cache-Control": "private, no-store"},
                policy=decision.policy,
                rule=decision.rule,
                country=decision.country,
            )

    return enforce_geofence


def documented_responses(method: str, path: str) -> Responses:
    """What the geofence may answer on a route, for the OpenAPI document: the policy is the
    deployment's, so any fenced route may be refused."""
    return {} if path in UNFENCED_PATHS else {451: Answer()}
