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
import asyncio
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wrk import Measurement, wrk

from loadtest.bench.processes import free_port
from origin.servers import DEFAULT_SERVER, SERVER_NAMES

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
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
        with origins(urls, Path(scratch), {variant.origin for variant in variants}) as bases:
            for round_number in range(1, args.rounds + 1):
                for variant in variants:
                    url = bases[variant.origin] + variant.path
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


@contextmanager
def databases(scratch: Path) -> Iterator[dict[str, str]]:
    """A seeded SQLite file and a seeded, temporary PostgreSQL database."""
    name = f"outpost_bench_{secrets.token_hex(4)}"
    admin_base, _, _ = POSTGRES_URL.rpartition("/")
    urls = {"sqlite": f"sqlite:///{scratch / 'bench.db'}", "postgres": f"{admin_base}/{name}"}
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    try:
        for url in urls.values():
            for verb in (["db", "upgrade"], ["db", "seed"]):
                subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
                    [sys.executable, "-m", "commands", *verb],
                    env={**os.environ, "DATABASE_URL": url},
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
        yield urls
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres_admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def origins(
    urls: dict[str, str], scratch: Path, wanted: set[tuple[str, str, bool]]
) -> Iterator[dict[tuple[str, str, bool], str]]:
    """One origin process per (server, database, response cache on/off), all on Redis."""
    processes: list[subprocess.Popen[bytes]] = []
    bases: dict[tuple[str, str, bool], str] = {}
    prefix = f"outpost-bench:{secrets.token_hex(4)}:"
    try:
        for server, database, cached in sorted(wanted):
            port = free_port()
            env = {
                **os.environ,
                "DATABASE_URL": urls[database],
                "REDIS_URL": REDIS_URL,
                "OUTPOST_REDIS_PREFIX": prefix,
                "OUTPOST_PORT": str(port),
                "OUTPOST_SERVER": server,
                "OUTPOST_RESPONSE_CACHE": "on" if cached else "off",
                # Measure the request path, not the limiter saying no.
                "OUTPOST_RATE_LIMIT_PER_MINUTE": "1000000000",
                "OUTPOST_LOG_LEVEL": "WARNING",
            }
            log = (scratch / f"origin-{server}-{database}-{cached}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "commands", "origin"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            bases[(server, database, cached)] = f"http://127.0.0.1:{port}"
        for base in bases.values():
            wait_until_healthy(base)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)


def wait_until_healthy(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"origin at {base} did not become healthy")


if __name__ == "__main__":
    sys.exit(main())
