"""The geofence step: refuse (451, naming the policy and rule) what the policy does not allow
from where the client is. Where the client is comes from the runtime's geolocation port."""

from __future__ import annotations

from edge.answers import refuse
from edge.context import RequestContext
from shared.geofence import GeofencePolicy, Location, evaluate


def enforce_geofence(policy: GeofencePolicy, context: RequestContext, location: Location) -> None:
    decision = evaluate(policy, context.request.method, context.target.path, location)
    if not decision.allowed:
        raise refuse(
            451,
            "unavailable_for_legal_reasons",
            decision.description or "this is not available from your location",
            policy=decision.policy,
            rule=decision.rule,
            country=decision.country,
        )
