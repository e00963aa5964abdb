"""What the CPython edge adds to a forwarded request, at one connection on 127.0.0.1.

Starts the origin (``outpost origin``, seeded SQLite) and the CPython edge in front of it
(``outpost edge``), each in its own process, then times the same request sent directly to the
origin and through the edge over one keep-alive connection each. Rounds alternate between the
two (direct, edge, direct, edge, ...) so drift on a noisy machine hits both alike, and all
samples of a target are pooled. The client is a raw socket, so its own cost is tiny and equal.

    python benchmarks/edge_overhead.py [--requests 2000] [--rounds 5] [--baseline DIR]

Target (issue 4): the edge adds at most 1 ms at p50 to a forwarded request. Also shown: the
same edge with httpx as its upstream client (``EDGE_UPSTREAM_CLIENT=httpx``) instead of the
lean HTTP/1.1 client it uses by default, and a read the edge answers from its cache. With
``--baseline DIR`` (another checkout, e.g. ``git worktree add /tmp/base main``), an edge served
from that checkout's code joins the rounds, so a change is measured side by side with what it
replaces, under the same noise. Each target also shows the CPU time its answering process (the
origin for the direct path, the edge otherwise) spent per request, read from ``/proc`` on Linux:
on a loaded machine, where wall times swing with the scheduler, it is the steadier comparison.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from loadtest.bench.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
FORWARDED_PATH = "/healthz"  # Cache-Control: no-store: always forwarded (X-Cache: BYPASS)
CACHED_PATH = "/api/products/1"  # public, s-maxage=60: answered by the edge once cached


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "commands", *args]


@contextmanager
def serving(
    command: list[str], env: dict[str, str], port: int, cwd: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    """Serve ``command`` (run in ``cwd``: ``-m`` imports that checkout's code) until the block
    ends; yields the process."""
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command} did not start: {process.stderr}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


class KeepAliveClient:
    """HTTP/1.1 GETs over one connection; reads Content-Length framed answers. Reconnects when
    the server ends the connection (Hypercorn does after 1000 requests, by default)."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._connect()

    def _connect(self) -> None:
        self._sock = socket.create_connection(("127.0.0.1", self._port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def get(self, path: str) -> tuple[int, dict[str, str]]:
        try:
            return self._exchange(path)
        except (ConnectionError, BrokenPipeError):
            self._sock.close()
            self._connect()
            return self._exchange(path)

    def _exchange(self, path: str) -> tuple[int, dict[str, str]]:
        self._sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += self._receive()
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            rest += self._receive()
        self._buffer = rest[length:]
        return int(lines[0].split()[1]), headers

    def _receive(self) -> bytes:
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        return data

    def close(self) -> None:
        self._sock.close()


def timed(client: KeepAliveClient, path: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        status, _ = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return samples


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far (``/proc/<pid>/stat``; 0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per target and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--baseline", type=Path, help="another checkout whose edge is timed alongside"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir:
        origin_port, edge_port, httpx_port, base_port = (free_port() for _ in range(4))
        env = {
            **os.environ,
            "OUTPOST_DATA_DIR": data_dir,
            "DATABASE_URL": f"sqlite:///{Path(data_dir) / 'bench.db'}",
            "OUTPOST_LOG_LEVEL": "WARNING",
            "OUTPOST_RATE_LIMIT_PER_MINUTE": "100000000",
            "EDGE_MODE": "local",
        }
        for step in (("db", "upgrade"), ("db", "seed")):
            subprocess.run(cli_command(*step), env=env, cwd=ROOT, check=True)  # noqa: S603
        origin = cli_command("origin", "--port", str(origin_port))
        origin_url = f"http://127.0.0.1:{origin_port}"
        edge = cli_command("edge", "--port", str(edge_port), "--origin", origin_url)
        httpx_edge = cli_command("edge", "--port", str(httpx_port), "--origin", origin_url)
        httpx_env = {**env, "EDGE_UPSTREAM_CLIENT": "httpx"}
        base_edge = cli_command("edge", "--port", str(base_port), "--origin", origin_url)
        with ExitStack() as stack:
            pids = {
                "direct": stack.enter_context(serving(origin, env, origin_port)).pid,
                "edge": stack.enter_context(serving(edge, env, edge_port)).pid,
                "edge-httpx": stack.enter_context(serving(httpx_edge, httpx_env, httpx_port)).pid,
            }
            if args.baseline:
                base = serving(base_edge, env, base_port, cwd=args.baseline)
                pids["edge-baseline"] = stack.enter_context(base).pid
            pids["edge-hit"] = pids["edge"]
            clients = {
                "direct": KeepAliveClient(origin_port),
                "edge": KeepAliveClient(edge_port),
                "edge-httpx": KeepAliveClient(httpx_port),
            }
            if args.baseline:
                clients["edge-baseline"] = KeepAliveClient(base_port)
            for name in clients.keys() - {"direct"}:
                _, headers = clients[name].get(FORWARDED_PATH)
                assert headers["x-cache"] == "BYPASS", headers
            warmup = max(100, args.requests // 10)
            for client in clients.values():
                timed(client, FORWARDED_PATH, warmup)
            clients["edge"].get(CACHED_PATH)
            samples: dict[str, list[float]] = {name: [] for name in [*clients, "edge-hit"]}
            cpu = dict.fromkeys(samples, 0.0)
            rounds = [(name, client, FORWARDED_PATH) for name, client in clients.items()]
            rounds.append(("edge-hit", clients["edge"], CACHED_PATH))
            for _ in range(args.rounds):
                for name, client, path in rounds:
                    started = process_cpu_seconds(pids[name])
                    samples[name] += timed(client, path, args.requests)
                    cpu[name] += process_cpu_seconds(pids[name]) - started
            for client in clients.values():
                client.close()

    count = args.requests * args.rounds
    report(samples, {name: seconds / count * 1e6 for name, seconds in cpu.items()}, count)
    return 0


def report(samples: dict[str, list[float]], cpu_us: dict[str, float], count: int) -> None:
    print(f"{count} requests per target, one keep-alive connection, 127.0.0.1 (ms; CPU in µs)")
    print(f"{'target':<38}{'p50':>8}{'p90':>8}{'p99':>8}{'mean':>8}{'CPU/req':>9}")
    labels = {
        "direct": f"origin directly     GET {FORWARDED_PATH}",
        "edge": f"edge (http1 client) GET {FORWARDED_PATH}",
        "edge-httpx": f"edge (httpx client) GET {FORWARDED_PATH}",
        "edge-baseline": f"baseline edge       GET {FORWARDED_PATH}",
        "edge-hit": f"edge cache hit      GET {CACHED_PATH}",
    }
    for name, values in samples.items():
        print(
            f"{labels[name]:<38}{percentile(values, 0.5):>8.3f}{percentile(values, 0.9):>8.3f}"
            f"{percentile(values, 0.99):>8.3f}{statistics.fmean(values):>8.3f}"
            f"{cpu_us[name]:>9.0f}"
        )
    edges = [("edge", "http1 client"), ("edge-httpx", "httpx client")]
    if "edge-baseline" in samples:
        edges.append(("edge-baseline", "baseline checkout"))
    for name, variant in edges:
        added = percentile(samples[name], 0.5) - percentile(samples["direct"], 0.5)
        verdict = "within" if added <= 1.0 else "OVER"
        print(
            f"edge overhead on a forwarded request ({variant}), p50: {added:+.3f} ms "
            f"({verdict} the 1 ms target)"
        )


if __name__ == "__main__":
    sys.exit(main())
