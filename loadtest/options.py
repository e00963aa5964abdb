"""The load test's own command-line options, added to Locust's (``locust --help`` lists them).

Locust's master sends its options to the workers, so a distributed run needs them on the master
only.
"""

from __future__ import annotations

from typing import Any

from loadtest.pacing import ARRIVALS


def add_options(parser: Any) -> None:
    group = parser.add_argument_group("outpost load test")
    group.add_argument(
        "--user-rate",
        type=float,
        default=1.0,
        help="task runs per second per user, on average; total rate = users x this",
    )
    group.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default="poisson",
        help="poisson: random gaps, as from independent users (default); steady: exactly "
        "1/user-rate apart (Locust's constant_throughput)",
    )
    group.add_argument(
        "--country",
        default="DE",
        help="CF-IPCountry sent by ordinary requests (honoured by an edge in local mode only)",
    )
    group.add_argument(
        "--blocked-country",
        default="KP",
        help="CF-IPCountry of the requests the edge's geofence must refuse with 451",
    )
    group.add_argument(
        "--exact-latencies",
        default="",
        help="write every request's exact latency to this CSV (Locust's own tables round)",
    )
    group.add_argument(
        "--max-fail-ratio",
        type=float,
        default=-1.0,
        help="exit with code 3 when the share of failed requests is above this (e.g. 0); "
        "negative: no threshold",
    )
    group.add_argument(
        "--max-p95-ms",
        type=float,
        default=0.0,
        help="exit with code 3 when the 95th percentile of all requests is above this; "
        "0: no threshold",
    )
