"""What the outbox and the purge dispatcher are configured with (read by :mod:`origin.settings`).

Purges are recorded and delivered when both ``CLOUDFLARE_API_TOKEN`` and ``CLOUDFLARE_ZONE_ID``
are set; without them writes record nothing (no queue grows that nobody drains) and
``outpost purger`` says it is off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from origin.purge.limits import DEFAULT_PLAN, PLANS, PlanLimits

CLOUDFLARE_API_URL = "https://api.cloudflare.com/client/v4"


@dataclass(frozen=True, slots=True)
class PurgeSettings:
    api_token: str | None = field(default=None, repr=False)
    zone_id: str | None = None
    api_url: str = CLOUDFLARE_API_URL
    plan: str = DEFAULT_PLAN
    limits: PlanLimits = PLANS[DEFAULT_PLAN]
    # How often an idle dispatcher looks for new rows; a busy one does not wait.
    poll_interval_seconds: float = 1.0
    # How long a claimed batch is the claimant's alone; past it (a dispatcher that died)
    # another dispatcher takes the rows. Longer than a request's timeout.
    lease_seconds: float = 60.0
    request_timeout_seconds: float = 10.0
    # Back-off after a failed attempt: doubling from the first, up to the longest.
    backoff_first_seconds: float = 1.0
    backoff_longest_seconds: float = 300.0
    metrics_port: int | None = None

    @property
    def enabled(self) -> bool:
        """Whether writes record purges and ``outpost purger`` delivers them."""
        return self.api_token is not None and self.zone_id is not None

    @property
    def missing(self) -> tuple[str, ...]:
        """The settings that keep purging off (empty when it is on)."""
        return tuple(
            name
            for name, value in (
                ("CLOUDFLARE_API_TOKEN", self.api_token),
                ("CLOUDFLARE_ZONE_ID", self.zone_id),
            )
            if value is None
        )

    @property
    def purge_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/zones/{self.zone_id}/purge_cache"
