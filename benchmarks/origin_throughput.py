"""Origin throughput: a bare endpoint vs. a product read cached in Redis vs. the same uncached.

Serves the origin (one worker, as ``outpost origin`` does) on SQLite and on PostgreSQL, drives
each variant with wrk on 127.0.0.1, and prints req/s and p50/p99 side by side. Variants are
measured in interleaved rounds (A B C A B C ...) and the median round is reported, because these
machines are noisy; ratios are computed within one run.

    python benchmarks/origin_throughput.py [--seconds 5] [--rounds 3] [--connections 8]
    python benchmarks/origin_throughput.py --servers uvicorn,granian,hypercorn

``--servers``: the bare endpoint and the cached and uncached product reads (PostgreSQL) on each
server, interleaved, with each one's ratio to the same variant on the first server named.

Needs ``wrk`` (Debian: ``apt-get install wrk``), the machine's Redis and PostgreSQL (the
``TEST_REDIS_URL`` / ``TEST_POSTGRES_URL`` of the test suite). Targets (issue 2): cached read
>= 50% of the bare endpoint's req/s, uncached >= 25%.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from origins import databases, origin_environment, running_origins
from wrk import Measurement, wrk

from origin.servers import DEFAULT_SERVER, SERVER_NAMES

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PATH = "/api/products/1"


@dataclass(frozen=True)
class Variant:
    name: str
    database: str  # "sqlite" | "postgres"
    response_cache: bool
    path: str
    server: str = DEFAULT_SERVER

    @property
    def origin(self) -> tuple[str, str, bool]:
        """The origin process this variant is measured on."""
        return self.server, self.database, self.response_cache


VARIANTS = [
    Variant("bare endpoint (/healthz)", "sqlite", True, "/healthz"),
    Variant("product, cached in Redis (SQLite)", "sqlite", True, PRODUCT_PATH),
    Variant("product, uncached (SQLite)", "sqlite", False, PRODUCT_PATH),
    Variant("product, cached in Redis (PostgreSQL)", "postgres", True, PRODUCT_PATH),
    Variant("product, uncached (PostgreSQL)", "postgres", False, PRODUCT_PATH),
]


def server_variants(servers: list[str]) -> list[Variant]:
    """Per server: the bare endpoint and the product read cached and uncached, on PostgreSQL."""
    return [
        Variant(f"{server}: {name}", "postgres", cached, path, server)
        for server in servers
        for name, cached, path in (
            ("bare endpoint (/healthz)", True, "/healthz"),
            ("product, cached in Redis", True, PRODUCT_PATH),
            ("product, uncached", False, PRODUCT_PATH),
        )
    ]


def server_list(text: str) -> list[str]:
    servers = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in servers if name not in SERVER_NAMES]
    if unknown or not servers:
        raise argparse.ArgumentTypeError(f"servers are some of {', '.join(SERVER_NAMES)}")
    return servers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="duration of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per variant")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--servers",
        type=server_list,
        help=f"compare servers (comma-separated, of {','.join(SERVER_NAMES)}); the first is the "
        "baseline of the ratios",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("benchmark: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 1
    variants = server_variants(args.servers) if args.servers else VARIANTS

    with tempfile.TemporaryDirectory() as scratch, databases(Path(scratch)) as urls:
        results: dict[str, list[Measurement]] = {variant.name: [] for variant in variants}
        environments = {
            (server, database, cached): {
                **origin_environment(urls[database], response_cache=cached),
                "OUTPOST_SERVER": server,
            }
            for server, database, cached in sorted({variant.origin for variant in variants})
        }
        with running_origins(environments, Path(scratch)) as served:
            for round_number in range(1, args.rounds + 1):
                for variant in variants:
                    url = served[variant.origin].base + variant.path
                    wrk(url, seconds=1, connections=args.connections)  # warm-up
                    results[variant.name].append(
                        wrk(url, seconds=args.seconds, connections=args.connections)
                    )
                print(f"round {round_number}/{args.rounds} done", file=sys.stderr)
    if args.servers:
        print_server_table(results, variants, args)
    else:
        print_table(results, args)
    return 0


def print_server_table(
    results: dict[str, list[Measurement]], variants: list[Variant], args: argparse.Namespace
) -> None:
    baseline = args.servers[0]
    print(
        f"\nOrigin throughput by server: 1 worker, PostgreSQL + Redis; wrk -t1 "
        f"-c{args.connections} -d{args.seconds}s; median of {args.rounds} interleaved rounds; "
        f"ratio to {baseline}\n"
    )
    print("| server | variant | req/s | ratio | p50 ms | p99 ms | req/s per round |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    medians = {
        v.name: statistics.median(m.requests_per_second for m in results[v.name]) for v in variants
    }
    for variant in variants:
        runs = results[variant.name]
        name = variant.name.partition(": ")[2]
        base = medians[f"{baseline}: {name}"]
        per_round = ", ".join(f"{m.requests_per_second:,.0f}" for m in runs)
        print(
            f"| {variant.server} | {name} | {medians[variant.name]:,.0f} | "
            f"{medians[variant.name] / base:.2f}x | "
            f"{statistics.median(m.p50_ms for m in runs):.2f} | "
            f"{statistics.median(m.p99_ms for m in runs):.2f} | {per_round} |"
        )


def print_table(results: dict[str, list[Measurement]], args: argparse.Namespace) -> None:
    bare = statistics.median(m.requests_per_second for m in results[VARIANTS[0].name])
    print(
        f"\nOrigin throughput: {DEFAULT_SERVER}, 1 worker; wrk -t1 -c{args.connections} "
        f"-d{args.seconds}s; median of {args.rounds} interleaved rounds\n"
    )
    print("| variant | req/s | % of bare | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for variant in VARIANTS:
        runs = results[variant.name]
        rps = statistics.median(m.requests_per_second for m in runs)
        p50 = statistics.median(m.p50_ms for m in runs)
        p99 = statistics.median(m.p99_ms for m in runs)
        print(f"| {variant.name} | {rps:,.0f} | {100 * rps / bare:.0f}% | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
