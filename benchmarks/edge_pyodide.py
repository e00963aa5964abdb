"""The edge worker under real Pyodide: CPU per request, cold start and upload size.

Serves two workers with the same Pyodide harness (tools/pyodide-host), in the same run:

- ``edge``: the real worker (edge/worker.py) in front of a scripted origin on 127.0.0.1, asked
  for a response it already holds in ``caches.default``, with an ES256 bearer token, so every
  request pays auth (Web Crypto verify), geofence and a cache hit, and never reaches the origin;
- ``hello``: a hello-world Python Worker (``Response("hello")``), the floor of the runtime.

CPU is the Node process's own (utime + stime from /proc/<pid>/stat) over N sequential
keep-alive requests, not wall time, so the client and the origin do not count. Cold start is
what the harness reports (restoring Pyodide's baseline snapshot, then importing the worker);
upload size sums the upload set the harness computes the way wrangler does, plus the vendored
packages unpacked (what lands in python_modules/).

    python benchmarks/edge_pyodide.py [--requests 3000]

Target (issue 4): edge CPU per request at most 2x hello's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.edge.pyodide.harness import HarnessProcess, harness_command, start_harness  # noqa: E402
from tests.edge.pyodide.launcher import harness_bindings  # noqa: E402
from tests.edge.support.lab import Lab, LabResponse, running_lab  # noqa: E402
from tests.edge.support.origin_server import EDGE_KEY_ID, EDGE_SECRET  # noqa: E402
from tests.edge.support.tokens import AUDIENCE, ES256_KID, ISSUER, mint, public_jwk  # noqa: E402

HELLO_WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("hello")
"""
CACHED_PATH = "/bench/catalog"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS


def cpu_per_request(harness: HarnessProcess, request: dict[str, Any], count: int) -> float:
    """Microseconds of the harness's CPU per request, after a warm-up."""
    with httpx.Client(base_url=harness.base_url, timeout=30.0) as client:
        for _ in range(200):
            client.get(**request).raise_for_status()
        before = cpu_seconds(harness.process.pid)
        for _ in range(count):
            client.get(**request)
        after = cpu_seconds(harness.process.pid)
    return (after - before) / count * 1e6


def upload_bytes(harness: HarnessProcess) -> tuple[int, int, int]:
    """(project modules, vendored packages, files) of what wrangler uploads: the built worker
    directory and python_modules/, as the harness loaded them."""
    report = httpx.get(f"{harness.base_url}/__harness/stats", timeout=30.0).json()
    own = sum((ROOT / "build" / "worker" / name).stat().st_size for name in report["upload_set"])
    vendored = sum(
        (ROOT / "python_modules" / name).stat().st_size for name in report["vendored_modules"]
    )
    return own, vendored, len(report["upload_set"]) + len(report["vendored_modules"])


def edge_env(lab: Lab) -> dict[str, str]:
    return {
        "ORIGIN_URL": lab.base_url,
        "EDGE_MODE": "production",
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWKS_URL": f"{lab.base_url}/.well-known/jwks.json",
        "EDGE_ASSERTION_SECRET": EDGE_SECRET,
        "EDGE_ASSERTION_KEY_ID": EDGE_KEY_ID,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()

    with running_lab() as lab, tempfile.TemporaryDirectory() as scratch:
        lab.set_jwks({"keys": [public_jwk("test-only-es256.pem", ES256_KID)]})
        lab.script(
            CACHED_PATH, LabResponse(200, (("cache-control", "public, s-maxage=3600"),), b"x" * 512)
        )
        hello_path = Path(scratch) / "hello_worker.py"
        hello_path.write_text(HELLO_WORKER)
        variables, secrets = harness_bindings(edge_env(lab))
        edge = start_harness(
            harness_command(variables=variables, secrets=list(secrets)), environment=secrets
        )
        hello = start_harness(harness_command(worker=hello_path))
        try:
            token = mint("bench-user", "customer", exp=2_000_000_000)
            edge_request: dict[str, Any] = {
                "url": CACHED_PATH,
                "headers": {"Authorization": f"Bearer {token}"},
            }
            with httpx.Client(base_url=edge.base_url) as client:
                statuses = [client.get(**edge_request).headers["x-cache"] for _ in range(2)]
            assert statuses == ["MISS", "HIT"], statuses
            edge_cpu = cpu_per_request(edge, edge_request, args.requests)
            hello_cpu = cpu_per_request(hello, {"url": "/"}, args.requests)
            assert len(lab.received(CACHED_PATH)) == 1, "the benchmark must measure cache hits"
            own, vendored, files = upload_bytes(edge)
            rows = [
                ("edge: ES256 auth + cache HIT, CPU/request", f"{edge_cpu:.0f} us"),
                ("hello-world worker, CPU/request", f"{hello_cpu:.0f} us"),
                ("ratio edge / hello (target <= 2x)", f"{edge_cpu / hello_cpu:.2f}x"),
                ("edge cold start: import worker", f"{edge.cold_start['import_worker_ms']} ms"),
                ("hello cold start: import worker", f"{hello.cold_start['import_worker_ms']} ms"),
                (
                    "edge cold start: total (snapshot restore + import)",
                    f"{edge.cold_start['total_ms']} ms",
                ),
                ("upload: edge/ + shared/ + worker.py", f"{own / 1024:.1f} KiB"),
                ("upload: python_modules/ (unpacked)", f"{vendored / 1024:.1f} KiB"),
                ("upload: files", str(files)),
            ]
        finally:
            edge.stop()
            hello.stop()
    width = max(len(name) for name, _ in rows)
    print(f"Pyodide edge, {args.requests} sequential requests per worker")
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
