"""What the figures must show under the default emulation (issue 5), as pass/fail checks.

- Cache hits and edge refusals: p50 within 5 ms of the user-to-edge RTT (the origin's distance
  no longer counts).
- Forwarded requests: p50 within 5 ms of the direct path (warm edge-to-origin connections, so a
  miss pays no extra handshakes).
- No errors other than the intended 401/451 (those count as successes already).

Latencies are the exact per-request ones, not Locust's rounded histogram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loadtest.naming import SERVED_BY_EDGE_CACHE, parse_request_name
from loadtest.report.samples import Sample
from loadtest.report.summary import (
    DIRECT,
    EDGE,
    RunData,
    Summary,
    percentile,
    scenario_samples,
)

TOLERANCE_MS = 5.0
MIN_SAMPLES = 10  # fewer and a p50 says little; the check is reported as not evaluated
REFUSAL_REQUESTS = frozenset({"bad token", "blocked country"})


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool | None  # None: not evaluated (too few samples, or not applicable)
    detail: str


def evaluate_checks(
    runs: Sequence[RunData],
    summary: Summary,
    scenarios: Sequence[str],
    user_edge_rtt_ms: float | None,
) -> list[Check]:
    """Every check; ``user_edge_rtt_ms`` is None against real deployments (RTT unknown)."""
    checks = []
    for scenario in scenarios:
        edge = scenario_samples(runs, EDGE, scenario)
        hits = [s for s in edge if _cache(s) in SERVED_BY_EDGE_CACHE and s.ok]
        refusals = [s for s in edge if _request(s) in REFUSAL_REQUESTS and s.ok]
        forwarded = [
            s
            for s in edge
            if _cache(s) not in SERVED_BY_EDGE_CACHE and _request(s) not in REFUSAL_REQUESTS
        ]
        if hits:
            checks.append(_near_rtt(f"{scenario}: cache hits", hits, user_edge_rtt_ms))
        if refusals:
            checks.append(_near_rtt(f"{scenario}: edge refusals", refusals, user_edge_rtt_ms))
        if forwarded:
            labels = {_request(s) for s in forwarded}
            direct = [s for s in scenario_samples(runs, DIRECT, scenario) if _request(s) in labels]
            checks.append(_near_direct(f"{scenario}: forwarded", forwarded, direct))
    checks.append(
        Check(
            "no errors besides the intended 401/451",
            summary.errors == 0,
            _errors_detail(summary),
        )
    )
    return checks


def _errors_detail(summary: Summary) -> str:
    detail = f"{summary.errors} error(s)"
    if summary.error_messages:
        detail += f"; first: {summary.error_messages[0]}"
    return detail


def all_passed(checks: Sequence[Check]) -> bool:
    """True when no check failed (checks not evaluated do not fail the bench)."""
    return all(check.passed is not False for check in checks)


def _near_rtt(name: str, samples: list[Sample], rtt_ms: float | None) -> Check:
    title = f"{name} p50 within {TOLERANCE_MS:g} ms of the user-to-edge RTT"
    if rtt_ms is None:
        return Check(title, None, "not applicable: the real user-to-edge RTT is unknown")
    if len(samples) < MIN_SAMPLES:
        return Check(title, None, f"only {len(samples)} sample(s)")
    p50 = _p50(samples)
    passed = abs(p50 - rtt_ms) <= TOLERANCE_MS
    return Check(title, passed, f"p50 {p50:.1f} ms vs RTT {rtt_ms:g} ms (n={len(samples)})")


def _near_direct(name: str, forwarded: list[Sample], direct: list[Sample]) -> Check:
    """Compare request by request (``me`` with ``me``), so a different mix of requests on the
    two paths cannot pass for a difference in latency."""
    title = f"{name} p50 within {TOLERANCE_MS:g} ms of the direct path"
    compared = []
    for label in sorted({_request(s) for s in forwarded}):
        via_edge = [s for s in forwarded if _request(s) == label]
        straight = [s for s in direct if _request(s) == label]
        if len(via_edge) >= MIN_SAMPLES and len(straight) >= MIN_SAMPLES:
            compared.append((label, _p50(via_edge), _p50(straight), len(via_edge), len(straight)))
    if not compared:
        return Check(title, None, f"fewer than {MIN_SAMPLES} samples of every request")
    details = [
        f"{label}: edge {edge_p50:.1f} vs direct {direct_p50:.1f} ms "
        f"({edge_p50 - direct_p50:+.1f}, n={n_edge}/{n_direct})"
        for label, edge_p50, direct_p50, n_edge, n_direct in compared
    ]
    passed = all(abs(edge - straight) <= TOLERANCE_MS for _, edge, straight, _, _ in compared)
    return Check(title, passed, "; ".join(details))


def _cache(sample: Sample) -> str:
    parsed = parse_request_name(sample.name)
    return "" if parsed is None else parsed.cache


def _request(sample: Sample) -> str:
    parsed = parse_request_name(sample.name)
    return "" if parsed is None else parsed.request


def _p50(samples: list[Sample]) -> float:
    return percentile(sorted(sample.response_time_ms for sample in samples), 50)
