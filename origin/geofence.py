"""The origin's own geofence check: the same policy as the edge, on the country it can trust.

The edge refuses most requests it should refuse before they travel; the origin checks again so
that a request which reaches it around the edge cannot get around the policy. The country is
the one in a valid edge assertion (or the caller's principal); a request nobody vouched for has
no country, and the policy treats it as unknown (``XX``). Nothing a client sends is taken for
its location.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from origin.errors import error_response
from origin.principals import whereabouts
from shared.geofence import GeofencePolicy, evaluate, location_of_country, parse_policy

POLICY_FILE = Path(__file__).resolve().parent.parent / "shared" / "policies" / "geofence.json"
UNFENCED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def load_policy(path: Path = POLICY_FILE) -> GeofencePolicy:
    return parse_policy(json.loads(path.read_text(encoding="utf-8")))


class GeofenceMiddleware:
    def __init__(self, app: ASGIApp, *, policy: GeofencePolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNFENCED_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        country = (await whereabouts(request)).country
        decision = evaluate(
            self.policy, scope["method"], scope["path"], location_of_country(country)
        )
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        response = error_response(
            451,
            "unavailable_for_legal_reasons",
            decision.description or "this is not available from your location",
            {"Cache-Control": "private, no-store"},
            policy=decision.policy,
            rule=decision.rule,
            country=decision.country,
        )
        await response(scope, receive, send)
