"""The edge worker under workerd, Cloudflare's runtime: CPU per request and cold start.

Serves two workers the same way (``wrangler dev``, edge/runtime/cpython/workerd_host.py), in
the same run:

- ``edge``: the real worker (wrangler.toml) in front of a scripted origin on 127.0.0.1, asked for
  a response it already holds in ``caches.default``, with an ES256 bearer token, so every request
  pays auth (Web Crypto verify), geofence and a cache hit, and never reaches the origin;
- ``hello``: a hello-world Python Worker (``Response("hello")``), the floor of the runtime;
- ``js``: a hello-world JavaScript worker, the floor of workerd and Miniflare's entry worker
  without Python (what is left of the worker's cost once this is subtracted is Python's).

``wrangler dev`` runs two workerd processes: one for wrangler's proxy worker in front, one for
the user worker (the one holding Pyodide: the larger by resident memory). CPU is each process's
own (utime + stime from /proc/<pid>/stat) over N sequential keep-alive requests, not wall time,
so neither the client nor the origin counts; the ratio is the user workerd's. Cold start is wall
time from starting ``wrangler dev`` to the first answer, for each worker; workerd's clock does not
advance while a worker computes, so the worker cannot time its own import: the edge's import
shows as the difference between the two cold starts.

    python benchmarks/edge_workerd.py [--requests 2000]

Target (issue 12): edge CPU per request at most 1.5x hello's. Offline, set
OUTPOST_PYODIDE_BUNDLE_DIR (docs/edge.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.runtime.cpython.workerd_host import WRANGLER_TOML, find_setup, running_wrangler_dev  # noqa: E402
from loadtest.bench.processes import free_port  # noqa: E402
from tests.edge.support.lab import Lab, LabResponse, running_lab  # noqa: E402
from tests.edge.support.launchers import wait_until_answering  # noqa: E402
from tests.edge.support.origin_server import EDGE_KEY_ID, EDGE_SECRET  # noqa: E402
from tests.edge.support.tokens import AUDIENCE, ES256_KID, ISSUER, mint, public_jwk  # noqa: E402
from tests.edge.workerd.probe import probe_project  # noqa: E402

HELLO_WORKER = """
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("hello")
"""
JS_HELLO_WORKER = 'export default { fetch() { return new Response("hello"); } };\n'
CACHED_PATH = "/bench/catalog"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Served:
    url: str
    cold_start_s: float
    user_workerd: int  # pid of the workerd running the Python worker
    proxy_workerd: int  # pid of the workerd running wrangler's proxy worker


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS


def workerd_processes(group: int) -> list[int]:
    """The workerd processes of ``wrangler dev``'s process group, largest resident memory first."""
    found: list[tuple[int, int]] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            rss = int(Path(stat.parent, "statm").read_text().split()[1])
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        if name == "workerd" and int(fields[2]) == group:  # field 5 of proc(5): pgrp
            found.append((rss, int(stat.parent.name)))
    return [pid for _, pid in sorted(found, reverse=True)]


@contextmanager
def served(env: dict[str, str], config: Path, log_level: str | None) -> Iterator[Served]:
    setup = find_setup(os.environ)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile(suffix=".log") as log:
        started = time.monotonic()
        running = running_wrangler_dev(
            setup,
            env,
            host="127.0.0.1",
            port=port,
            environ=os.environ,
            output=log.fileno(),
            config=config,
            log_level=log_level,
        )
        with running as process:
            wait_until_answering(url, process, Path(log.name))
            cold_start = time.monotonic() - started
            user, proxy = workerd_processes(process.pid)[:2]
            yield Served(url, cold_start, user, proxy)


def cpu_per_request(server: Served, request: dict[str, Any], count: int) -> tuple[float, float]:
    """Microseconds of CPU per request (user workerd, proxy workerd), after a warm-up."""
    pids = (server.user_workerd, server.proxy_workerd)
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        for _ in range(200):
            client.get(**request).raise_for_status()
        before = [cpu_seconds(pid) for pid in pids]
        for _ in range(count):
            client.get(**request)
        after = [cpu_seconds(pid) for pid in pids]
    user, proxy = ((a - b) / count * 1e6 for a, b in zip(after, before, strict=True))
    return user, proxy


def cpu_per_request_any_status(
    server: Served, request: dict[str, Any], count: int
) -> tuple[float, float]:
    """As :func:`cpu_per_request`, for requests the edge refuses."""
    pids = (server.user_workerd, server.proxy_workerd)
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        for _ in range(200):
            client.get(**request)
        before = [cpu_seconds(pid) for pid in pids]
        for _ in range(count):
            client.get(**request)
        after = [cpu_seconds(pid) for pid in pids]
    user, proxy = ((a - b) / count * 1e6 for a, b in zip(after, before, strict=True))
    return user, proxy


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--log-level",
        default="warn",
        help="wrangler dev's (info: Miniflare logs each request through its Node process)",
    )
    args = parser.parse_args()

    with running_lab() as lab, tempfile.TemporaryDirectory() as scratch:
        lab.set_jwks({"keys": [public_jwk("test-only-es256.pem", ES256_KID)]})
        public = (("cache-control", "public, s-maxage=3600"),)
        lab.script(CACHED_PATH, LabResponse(200, public, b"x" * 512))
        hello_file = Path(scratch) / "hello_worker.py"
        hello_file.write_text(HELLO_WORKER)
        (Path(scratch) / "hello").mkdir()
        hello_config = probe_project(hello_file, Path(scratch) / "hello")
        js_config = Path(scratch) / "js" / "wrangler.toml"
        js_config.parent.mkdir()
        (js_config.parent / "worker.js").write_text(JS_HELLO_WORKER)
        js_config.write_text('name = "js"\nmain = "worker.js"\ncompatibility_date = "2026-09-08"\n')
        token = mint("bench-user", "customer", exp=2_000_000_000)
        edge_request: dict[str, Any] = {
            "url": CACHED_PATH,
            "headers": {"Authorization": f"Bearer {token}"},
        }
        with (
            served(edge_env(lab), WRANGLER_TOML, args.log_level) as edge,
            served({}, hello_config, args.log_level) as hello,
            served({}, js_config, args.log_level) as js_hello,
        ):
            with httpx.Client(base_url=edge.url) as client:
                statuses = [client.get(**edge_request).headers["x-cache"] for _ in range(2)]
            assert statuses == ["MISS", "HIT"], statuses
            edge_user, edge_proxy = cpu_per_request(edge, edge_request, args.requests)
            hello_user, hello_proxy = cpu_per_request(hello, {"url": "/"}, args.requests)
            js_user, _ = cpu_per_request(js_hello, {"url": "/"}, args.requests)
            # Where the edge's time goes: the same hit without a token (no Web Crypto), and a
            # refusal the geofence makes before any cache lookup (production mode: request.cf).
            anonymous_user, _ = cpu_per_request(edge, {"url": CACHED_PATH}, args.requests)
            refusal = {"url": CACHED_PATH, "headers": {"MF-CF-Blob": '{"country": "KP"}'}}
            assert httpx.get(edge.url + CACHED_PATH, headers=refusal["headers"]).status_code == 451
            refusal_user, _ = cpu_per_request_any_status(edge, refusal, args.requests)
            assert len(lab.received(CACHED_PATH)) == 1, "the benchmark must measure cache hits"
    rows = [
        ("edge: ES256 auth + cache HIT, user workerd CPU/request", f"{edge_user:.0f} us"),
        ("hello-world worker, user workerd CPU/request", f"{hello_user:.0f} us"),
        ("ratio edge / hello (target <= 1.5x)", f"{edge_user / hello_user:.2f}x"),
        ("  the same hit without a token (no Web Crypto)", f"{anonymous_user:.0f} us"),
        ("  a 451 refusal (no token, no cache lookup)", f"{refusal_user:.0f} us"),
        ("JavaScript hello-world worker, user workerd CPU/request", f"{js_user:.0f} us"),
        (
            "ratio without the JavaScript floor (edge - js) / (hello - js)",
            f"{(edge_user - js_user) / (hello_user - js_user):.2f}x",
        ),
        ("edge: wrangler's proxy workerd CPU/request", f"{edge_proxy:.0f} us"),
        ("hello: wrangler's proxy workerd CPU/request", f"{hello_proxy:.0f} us"),
        ("edge cold start: wrangler dev start to first answer", f"{edge.cold_start_s:.1f} s"),
        ("hello cold start: wrangler dev start to first answer", f"{hello.cold_start_s:.1f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print(
        f"edge under workerd, {args.requests} sequential requests per worker, "
        f"wrangler dev --log-level {args.log_level}"
    )
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
