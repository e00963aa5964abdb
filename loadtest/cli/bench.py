"""``outpost bench``: measure what the edge saves, locally under emulated WAN latency or
against real deployments (``--edge-url`` + ``--origin-url``). See docs/loadtest.md."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

SCENARIOS = ("catalog", "private", "orders", "refusals", "mix")  # template:demo
# template:no-demo: SCENARIOS = ("hello", "private", "refusals")
"""loadtest.bench.plan's, repeated so that ``outpost --help`` need not import the load test."""


def register(verbs: Any) -> None:
    bench = verbs.add_parser(
        "bench",
        help="latency comparison: every scenario direct to the origin and through the edge",
        description="Start an origin (fresh SQLite), an edge and WAN-latency proxies, "
        "run each Locust scenario direct and through the edge for a bounded time and rate, stop "
        "everything and write a report (summary.md, summary.json, latency.png, Locust CSV and "
        "HTML). With --edge-url and --origin-url, measure real deployments instead (nothing is "
        "started). Exit code 0 when every check passed, 1 when one failed, 2 when the bench "
        "could not run.",
    )
    bench.add_argument(
        "--out",
        type=Path,
        help="report directory (default: bench-reports/<UTC time>)",
    )
    bench.add_argument(
        "--edge-runtime",
        choices=("cpython", "workerd", "pyodide"),
        default="cpython",
        help="cpython (default) or workerd (the Cloudflare worker under wrangler dev; "
        "pyodide is another name for it)",
    )
    bench.add_argument(
        "--user-edge-rtt-ms", type=float, default=10.0, help="emulated user-to-edge RTT (10)"
    )
    bench.add_argument(
        "--edge-origin-rtt-ms", type=float, default=80.0, help="emulated edge-to-origin RTT (80)"
    )
    bench.add_argument(
        "--duration",
        type=float,
        default=20.0,
        help="seconds per scenario (20; its direct and edge runs go side by side)",
    )
    bench.add_argument("--rate", type=float, default=25.0, help="requests per second per run (25)")
    bench.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)} (default: all)",
    )
    bench.add_argument("--edge-url", help="a deployed edge (with --origin-url): no emulation")
    bench.add_argument("--origin-url", help="the deployed origin the edge fronts")
    bench.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    from loadtest.bench.main import run
    from loadtest.bench.plan import BenchConfig

    out = args.out or Path("bench-reports") / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return run(
        BenchConfig(
            out_dir=out,
            edge_runtime=args.edge_runtime,
            user_edge_rtt_ms=args.user_edge_rtt_ms,
            edge_origin_rtt_ms=args.edge_origin_rtt_ms,
            duration_s=args.duration,
            rate=args.rate,
            edge_url=args.edge_url,
            origin_url=args.origin_url,
            scenarios=tuple(part.strip() for part in args.scenarios.split(",") if part.strip()),
        )
    )
