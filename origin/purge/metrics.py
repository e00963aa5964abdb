"""The purge dispatcher's metrics, in the process's registry (served by ``outpost purger``).

- ``outpost_purge_outbox_depth``: rows waiting in the outbox;
- ``outpost_purge_oldest_age_seconds``: how long ago the oldest of them was committed;
- ``outpost_purge_deliveries_total``: purge requests Cloudflare acknowledged;
- ``outpost_purge_delivered_rows_total``: outbox rows they settled (more rows than tags sent
  means duplicates were coalesced);
- ``outpost_purge_retries_total{reason}``: attempts that will be retried on their own
  (``rate_limited``, ``server_error``, ``timeout``, ``network``);
- ``outpost_purge_failures_total{reason}``: refusals that need someone (``authentication``:
  the token; ``rejected``: a request Cloudflare would not take); the rows stay queued;
- ``outpost_purge_delivery_seconds``: from a row's commit to Cloudflare's acknowledgement, the
  time a far location can serve the old copy.
"""

from __future__ import annotations

from origin.observability.metrics import REGISTRY, Registry

DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class PurgeMetrics:
    def __init__(self, registry: Registry = REGISTRY) -> None:
        self.depth = registry.gauge("outpost_purge_outbox_depth", "Purges waiting in the outbox.")
        self.oldest_age = registry.gauge(
            "outpost_purge_oldest_age_seconds",
            "Seconds since the oldest undelivered purge was committed (0: none waits).",
        )
        self.deliveries = registry.counter(
            "outpost_purge_deliveries_total", "Purge requests Cloudflare acknowledged."
        )
        self.delivered_rows = registry.counter(
            "outpost_purge_delivered_rows_total",
            "Outbox rows settled by acknowledged purges (duplicates coalesce into one tag).",
        )
        self.retries = registry.counter(
            "outpost_purge_retries_total",
            "Purge attempts to be retried on their own, by reason.",
            ("reason",),
        )
        self.failures = registry.counter(
            "outpost_purge_failures_total",
            "Purge attempts Cloudflare refused (the purges stay queued), by reason.",
            ("reason",),
        )
        self.delivery_seconds = registry.histogram(
            "outpost_purge_delivery_seconds",
            "Time from a purge's commit to Cloudflare's acknowledgement.",
            buckets=DELIVERY_BUCKETS,
        )
