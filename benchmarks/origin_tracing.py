"""What OpenTelemetry tracing costs the origin: cached and uncached product reads with tracing off,
on at 100% sampling and on at 10%, side by side in one run.

Each variant is its own ``outpost origin`` process (one worker, SQLite or PostgreSQL, Redis),
driven with wrk on 127.0.0.1 in interleaved rounds (A B C A B C ...); the median round is
reported, because these machines are noisy. With tracing on, spans go over OTLP/HTTP to a local
receiver that accepts and discards them, so exporting is part of the cost.

    python benchmarks/origin_tracing.py [--database sqlite] [--seconds 5] [--rounds 3]

Needs ``wrk`` and the machine's Redis (and PostgreSQL for ``--database postgres``), as
``benchmarks/origin_throughput.py``. Targets (issue 14): off costs nothing measurable; 10%
sampling costs under 5% of req/s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from origin_throughput import PRODUCT_PATH
from origins import databases, origin_environment, running_origins
from wrk import Measurement, wrk

TRACING = {
    "off": {},
    "on, 100%": {"OTEL_TRACES_SAMPLER": "parentbased_always_on"},
    "on, 10%": {
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    },
}


@dataclass(frozen=True)
class Variant:
    read: str  # "cached" | "uncached"
    tracing: str  # a key of TRACING

    @property
    def name(self) -> str:
        return f"{self.read} read, tracing {self.tracing}"


VARIANTS = [Variant(read, tracing) for read in ("cached", "uncached") for tracing in TRACING]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=5, help="duration of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per variant")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("benchmark: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 1

    results: dict[Variant, list[Run]] = {variant: [] for variant in VARIANTS}
    with (
        tempfile.TemporaryDirectory() as scratch,
        databases(Path(scratch)) as urls,
        discarding_otlp_receiver() as collector,
        running_origins(
            environments(urls[args.database], collector),
            Path(scratch),
            timeout=180,  # six start at once on a busy machine
        ) as servers,
    ):
        for round_number in range(1, args.rounds + 1):
            for variant in VARIANTS:
                base, process = servers[variant]
                url = base + PRODUCT_PATH
                wrk(url, seconds=1, connections=args.connections)  # warm-up
                cpu_before = cpu_seconds(process)
                measured = wrk(url, seconds=args.seconds, connections=args.connections)
                cpu_used = cpu_seconds(process) - cpu_before
                served = measured.requests_per_second * args.seconds
                results[variant].append(Run(measured, 1e6 * cpu_used / served))
            print(f"round {round_number}/{args.rounds} done", file=sys.stderr)
    print_table(results, args)
    return 0


def environments(database_url: str, collector: str) -> dict[Variant, dict[str, str]]:
    """Each variant's origin: tracing as the variant says, to the receiver at ``collector``."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    found = {}
    for variant in VARIANTS:
        environment = origin_environment(
            database_url, response_cache=variant.read == "cached", inherited=inherited
        )
        if variant.tracing != "off":
            environment |= {"OTEL_EXPORTER_OTLP_ENDPOINT": collector, **TRACING[variant.tracing]}
        found[variant] = environment
    return found


@dataclass(frozen=True)
class Run:
    measured: Measurement
    cpu_us_per_request: float
    """The origin process's CPU time per request: unlike req/s, not shared with the neighbours."""


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    import psutil

    times = psutil.Process(process.pid).cpu_times()
    return float(times.user + times.system)


def print_table(results: dict[Variant, list[Run]], args: argparse.Namespace) -> None:
    print(
        f"\nTracing cost: Hypercorn, 1 worker, {args.database} + Redis; wrk -t1 "
        f"-c{args.connections} -d{args.seconds}s; median of {args.rounds} interleaved rounds\n"
    )
    print("| variant | req/s | vs off | CPU µs/request | vs off | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for variant in VARIANTS:
        off = results[Variant(variant.read, "off")]
        off_rps = statistics.median(run.measured.requests_per_second for run in off)
        off_cpu = statistics.median(run.cpu_us_per_request for run in off)
        runs = results[variant]
        rps = statistics.median(run.measured.requests_per_second for run in runs)
        cpu = statistics.median(run.cpu_us_per_request for run in runs)
        p50 = statistics.median(run.measured.p50_ms for run in runs)
        p99 = statistics.median(run.measured.p99_ms for run in runs)
        print(
            f"| {variant.name} | {rps:,.0f} | {100 * (rps - off_rps) / off_rps:+.1f}% "
            f"| {cpu:,.0f} | {100 * (cpu - off_cpu) / off_cpu:+.1f}% | {p50:.2f} | {p99:.2f} |"
        )


@contextmanager
def discarding_otlp_receiver() -> Iterator[str]:
    """An OTLP/HTTP endpoint that takes every batch and throws it away."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
