"""What the edge has established about one request so far, handed from step to step."""

from __future__ import annotations

from dataclasses import dataclass

from edge.http import EdgeRequest
from edge.request_checks import Target
from edge.timing import StepTimer
from shared.geofence import Location
from shared.jwt import VerifiedToken
from shared.routes import Auth, RouteRule
from shared.trace_context import RequestIdentity


@dataclass(slots=True)
class RequestContext:
    request: EdgeRequest
    target: Target
    identity: RequestIdentity
    timer: StepTimer
    route: RouteRule
    token: VerifiedToken | None = None
    location: Location | None = None

    @property
    def forwards_authorization(self) -> bool:
        """Public routes never see the caller's credentials (nor vary on them)."""
        return self.route.auth is not Auth.PUBLIC and "authorization" in self.request.headers
