"""Locust entry point for outpost's latency scenarios.

Run against the origin or the edge (the same file measures both)::

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8787 --headless \\
        --users 4 --spawn-rate 4 --user-rate 5 --run-time 30s --tags private \\
        --csv out/edge-private --html out/edge-private.html --exact-latencies out/edge.csv

Scenarios (``--tags``): those of ``loadtest/scenarios.py``, listed in
``loadtest.bench.plan.SCENARIOS``. Tokens come from ``LOADTEST_TOKENS`` or from registering at the
target (see ``loadtest/tokens.py``). For a ramp, add the shape file:
``-f loadtest/locustfile.py,loadtest/shapes.py``. ``outpost bench`` runs all of this for you and
writes the comparison report.
"""

from __future__ import annotations

from typing import Any

from locust import events

from loadtest import options, recording, thresholds

# Locust runs the user classes found in this module: the app's scenarios (loadtest/scenarios.py).
# template:demo-begin
from loadtest.scenarios import (
    CatalogReader,
    OrderWriter,
    PrivateReader,
    RefusedRequests,
    Shopper,
)

__all__ = ["CatalogReader", "OrderWriter", "PrivateReader", "RefusedRequests", "Shopper"]
# template:demo-end
# template:no-demo: from loadtest.scenarios import HelloReader, PrivateReader, RefusedRequests
# template:no-demo:
# template:no-demo: __all__ = ["HelloReader", "PrivateReader", "RefusedRequests"]


def _add_options(parser: Any, **_: Any) -> None:
    options.add_options(parser)


def _install(environment: Any, **_: Any) -> None:
    recording.install(environment)
    thresholds.install(environment)


events.init_command_line_parser.add_listener(_add_options)  # type: ignore[no-untyped-call]
events.init.add_listener(_install)  # type: ignore[no-untyped-call]
