"""What the origin counts beyond HTTP requests, in one bundle handlers reach through ``services``.

- ``outpost_cache_requests_total{result}``: response cache lookups (``hit``, ``miss``,
  ``bypass``);
- ``outpost_store_reads_total{store,result}``: reads of the key-value store (``memory`` or
  ``redis``), ``hit`` or ``miss``: the layer under the response cache, idempotency records and
  revocation markers;
- ``outpost_store_errors_total{store}``: calls to the store's backend that failed;
- ``outpost_store_degraded_total{store}``: operations answered without the backend (Redis down
  or its circuit breaker open: cache bypassed, rate limit failed open);
- ``outpost_idempotent_replays_total{source}``: retries answered with the first response, from
  the ``store`` or the ``database``;
- ``outpost_assertion_refusals_total{reason}`` and ``outpost_token_refusals_total{reason}``:
  edge assertions and bearer tokens refused, by the reason the log line carries;
- ``outpost_db_pool_connections_in_use`` and ``outpost_db_pool_size``: the database pool.

Every label value is one of a fixed set chosen by the code, never by a client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from origin.observability.metrics import Counter, Registry, cache_requests_counter

if TYPE_CHECKING:
    from origin.kv import Store
    from origin.middleware.request_context import CompletedRequest


class OriginMetrics:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.cache_requests = cache_requests_counter(registry)
        self.idempotent_replays = registry.counter(
            "outpost_idempotent_replays_total",
            "Retries answered with the first response, by where it was kept.",
            ("source",),
        )
        self.assertion_refusals = registry.counter(
            "outpost_assertion_refusals_total", "Edge assertions refused, by reason.", ("reason",)
        )
        self.token_refusals = registry.counter(
            "outpost_token_refusals_total", "Bearer tokens refused, by reason.", ("reason",)
        )
        self._store_reads = registry.counter(
            "outpost_store_reads_total",
            "Key-value store reads by store and result (hit, miss).",
            ("store", "result"),
        )
        self._store_errors = registry.counter(
            "outpost_store_errors_total", "Calls to the store's backend that failed.", ("store",)
        )
        self._store_degraded = registry.counter(
            "outpost_store_degraded_total",
            "Store operations answered without the backend (down, or its breaker open).",
            ("store",),
        )
        self._pool_in_use = registry.gauge(
            "outpost_db_pool_connections_in_use", "Database connections checked out of the pool."
        )
        self._pool_size = registry.gauge(
            "outpost_db_pool_size", "Connections the database pool keeps open."
        )
        self._stores: list[_StoreCounts] = []

    def watch_store(self, store: Store, name: str) -> None:
        """Export ``store.stats`` under ``store=name`` (synced after each request)."""
        self._stores.append(_StoreCounts(store, name))

    def watch_pool(self, engine: AsyncEngine) -> None:
        """Follow the pool's checkouts and checkins; its size as configured."""
        pool = engine.sync_engine.pool
        size = getattr(pool, "size", None)
        self._pool_size.set(size() if callable(size) else 1)

        def checked_out(*_: Any) -> None:
            self._pool_in_use.inc()

        def checked_in(*_: Any) -> None:
            self._pool_in_use.dec()

        event.listen(engine.sync_engine, "checkout", checked_out)
        event.listen(engine.sync_engine, "checkin", checked_in)

    def observe(self, request: CompletedRequest) -> None:
        """A request-context observer: carry the stores' counters over into Prometheus.

        The stores count in plain integers (cheap, and the same whether or not anything reads
        them); the growth since the last request is added here, once per request.
        """
        for counts in self._stores:
            counts.sync(self._store_reads, self._store_errors, self._store_degraded)


class _StoreCounts:
    """What of a store's statistics has already been exported."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        self.hits = self.misses = self.errors = self.degraded = 0

    def sync(self, reads: Counter, errors: Counter, degraded: Counter) -> None:
        stats = self.store.stats
        if stats.hits != self.hits:
            reads.inc((self.name, "hit"), stats.hits - self.hits)
            self.hits = stats.hits
        if stats.misses != self.misses:
            reads.inc((self.name, "miss"), stats.misses - self.misses)
            self.misses = stats.misses
        if stats.errors != self.errors:
            errors.inc((self.name,), stats.errors - self.errors)
            self.errors = stats.errors
        if stats.degraded != self.degraded:
            degraded.inc((self.name,), stats.degraded - self.degraded)
            self.degraded = stats.degraded
