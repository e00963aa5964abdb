# template:demo-only
"""``outpost soak``: the realistic mix through the edge for minutes or hours, at a share of the
measured capacity, recording every request and each process's memory and descriptors.
See docs/loadtest.md."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any


def register(verbs: Any) -> None:
    soak = verbs.add_parser(
        "soak",
        help="endurance: the mix through the edge at a share of capacity, memory and fds sampled",
        description="Start an origin (fresh seeded SQLite) and an edge, measure capacity (the "
        "highest rate at which the mix's p99 through the edge stays under --p99-bound-ms), then "
        "drive the mix at --fraction of it for --minutes while sampling each process's RSS and "
        "open file descriptors; stop everything and write a report (summary.md, summary.json, "
        "soak.png). Exit code 0 when there was no unintended error and memory stayed flat "
        "within noise, 1 when not, 2 when the soak could not run.",
    )
    soak.add_argument("--minutes", type=float, required=True, help="how long to soak")
    soak.add_argument(
        "--fraction", type=float, default=0.5, help="share of the measured capacity (0.5)"
    )
    soak.add_argument(
        "--p99-bound-ms",
        type=float,
        default=250.0,
        help="the p99 the capacity must keep the mix under (250)",
    )
    soak.add_argument(
        "--rate", type=float, help="soak at this many req/s and skip the capacity measurement"
    )
    soak.add_argument(
        "--step-seconds", type=float, default=20.0, help="length of each capacity step (20)"
    )
    soak.add_argument("--edge-runtime", choices=("cpython", "pyodide"), default="cpython")
    soak.add_argument("--out", type=Path, help="report directory (default: soak-reports/<UTC>)")
    soak.set_defaults(handler=run_soak)


def run_soak(args: argparse.Namespace) -> int:
    from loadtest.soak.main import SoakConfig, run

    out = args.out or Path("soak-reports") / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return run(
        SoakConfig(
            out_dir=out,
            minutes=args.minutes,
            fraction=args.fraction,
            p99_bound_ms=args.p99_bound_ms,
            rate=args.rate,
            step_seconds=args.step_seconds,
            edge_runtime=args.edge_runtime,
        )
    )
