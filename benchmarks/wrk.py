"""Running wrk and reading what it prints: the load generator every HTTP benchmark here shares.

    from wrk import wrk
    measurement = wrk("http://127.0.0.1:8000/healthz", seconds=5, connections=8)

``wrk`` runs one thread (``-t1``) with ``--latency``, so the percentiles are printed; ``headers``
go with every request (``-H``), and ``cpu`` pins the load generator to one CPU with ``taskset``
so it does not compete with the server it measures. A run that saw any non-2xx/3xx answer
raises: a benchmark of error answers measures the wrong thing.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Measurement:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: Mapping[str, str] | None = None,
    cpu: int | None = None,
) -> Measurement:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    completed = subprocess.run(  # noqa: S603 - fixed arguments
        [*command, url],
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_wrk(completed.stdout)


def parse_wrk(output: str) -> Measurement:
    if re.search(r"Non-2xx or 3xx responses", output):
        raise RuntimeError(f"wrk saw error responses:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        assert found is not None, f"no {label}% line in wrk output:\n{output}"
        return float(found.group(1)) * _UNITS_MS[found.group(2)]

    return Measurement(rps, percentile("50"), percentile("99"))
