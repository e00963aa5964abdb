"""``outpost bench``'s course: start, warm up, run, stop, report; exit code from the checks.

Exit codes: 0 every check passed, 1 a check failed, 2 the bench could not run (bad options, a
process that would not start, a target answering errors before the runs), 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM). Interrupted or terminated, it stops what it started first:
its children run in sessions of their own, so nothing else would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from loadtest.bench import preparation
from loadtest.bench.plan import (
    TARGETS,
    BenchConfig,
    PlannedRun,
    plan_rounds,
    problems,
    users_for,
)
from loadtest.bench.processes import ProcessFailed
from loadtest.bench.progress import Progress
from loadtest.bench.runner import run_round
from loadtest.bench.stack import LocalStack
from loadtest.report.markdown import ReportContext
from loadtest.report.write import PLOT_PNG, SUMMARY_JSON, SUMMARY_MD, build_report, load_run
from loadtest.tokens import TOKENS_VARIABLE

COUNTRY = "DE"  # ordinary requests come from a country the demo geofence serves (and ships to)


@dataclass(frozen=True, slots=True)
class Targets:
    direct: str
    edge: str

    def of(self, target: str) -> str:
        return self.direct if target == "direct" else self.edge


def run(config: BenchConfig) -> int:
    return run_command("bench", problems(config), lambda: bench(config, Progress(sys.stdout)))


def run_command(verb: str, found: list[str], course: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Refuse bad options (exit 2), else run ``course`` to its exit code; Ctrl-C (130) and
    SIGTERM (143) unwind it, so it stops what it started first."""
    if found:
        for problem in found:
            print(f"outpost {verb}: {problem}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_cancelled_by_sigterm(course()))
    except KeyboardInterrupt:
        print(f"\noutpost {verb}: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    except asyncio.CancelledError:
        print(f"\noutpost {verb}: terminated; everything it started is stopped", file=sys.stderr)
        return 143


async def _cancelled_by_sigterm(work: Coroutine[Any, Any, int]) -> int:
    """Run ``work``; SIGTERM cancels it, which unwinds it like Ctrl-C does (asyncio.run turns
    SIGINT into a cancellation too), so its children are stopped."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await task
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


async def bench(config: BenchConfig, progress: Progress) -> int:
    out_dir = config.out_dir.resolve()
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    rounds = plan_rounds(config)
    runs = [run for planned in rounds for run in planned]
    try:
        with tempfile.TemporaryDirectory(prefix="outpost-bench-") as work_dir:
            async with AsyncExitStack() as stack:
                targets, tokens = await _targets(config, stack, Path(work_dir), out_dir, progress)
                await _warm_up(targets, tokens, progress)
                env = {**os.environ, TOKENS_VARIABLE: ",".join(tokens)}
                hosts = {target: targets.of(target) for target in TARGETS}
                codes = [
                    code
                    for planned in rounds
                    for code in await run_round(
                        planned, len(rounds), config, hosts, out_dir, env, progress
                    )
                ]
            progress.note("stopped everything the bench started")
    except (ProcessFailed, preparation.PreparationFailed, httpx.HTTPError) as error:
        print(f"outpost bench: {error}", file=sys.stderr)
        return 2
    return _report(config, runs, codes, targets, out_dir, started_at, progress)


async def _targets(
    config: BenchConfig, stack: AsyncExitStack, work_dir: Path, out_dir: Path, progress: Progress
) -> tuple[Targets, tuple[str, ...]]:
    if config.edge_url is not None and config.origin_url is not None:
        progress.note(f"real deployments: edge {config.edge_url}, origin {config.origin_url}")
        # One account per Locust user (shared by that user's twin in the other run): at most
        # 2 x MAX_USER_RATE requests a second per subject, well within the origin's per-client
        # budget (600 a minute by default).
        users, _ = users_for(config.rate)
        origin = config.origin_url.rstrip("/")
        tokens = await asyncio.gather(*(preparation.sign_in(origin) for _ in range(users)))
        progress.note(f"signed in {users} throwaway account(s) at the origin")
        return Targets(origin, config.edge_url.rstrip("/")), tuple(tokens)
    local = await stack.enter_async_context(
        LocalStack(config, work_dir, out_dir / "logs", progress.note)
    )
    # template:demo-begin
    restocked = await preparation.restock(local.urls.edge, local.admin_token, COUNTRY)
    progress.note(f"restocked {restocked} products so that orders cannot run out")
    # template:demo-end
    return Targets(local.urls.direct, local.urls.edge), local.tokens


async def _warm_up(targets: Targets, tokens: tuple[str, ...], progress: Progress) -> None:
    counts = await asyncio.gather(
        preparation.warm_up(targets.direct, tokens, COUNTRY),
        preparation.warm_up(targets.edge, tokens, COUNTRY),
    )
    progress.note(f"warmed up: {counts[0]} requests direct, {counts[1]} through the edge")


def _report(
    config: BenchConfig,
    runs: list[PlannedRun],
    codes: list[int],
    targets: Targets,
    out_dir: Path,
    started_at: str,
    progress: Progress,
) -> int:
    from loadtest.report.write import write_report

    data = [
        load_run(planned.target, planned.scenario, out_dir / planned.label, code)
        for planned, code in zip(runs, codes, strict=True)
    ]
    rtt = None if config.remote else config.user_edge_rtt_ms
    report = build_report(data, config.scenarios, rtt)
    write_report(
        out_dir,
        report,
        data,
        _context(config, targets, runs),
        _settings(config, targets, started_at),
        {}
        if config.remote
        else {
            f"user-edge RTT {config.user_edge_rtt_ms:g} ms": config.user_edge_rtt_ms,
            f"user-origin RTT {config.user_origin_rtt_ms:g} ms": config.user_origin_rtt_ms,
        },
    )
    progress.note(f"report written to {out_dir}")
    print((out_dir / SUMMARY_MD).read_text(encoding="utf-8").split("\n## Requests")[0])
    return 0 if report.passed else 1


def _context(config: BenchConfig, targets: Targets, runs: list[PlannedRun]) -> ReportContext:
    users, user_rate = users_for(config.rate)
    if config.remote:
        setup = (
            f"Real deployments: direct = origin {targets.direct}, edge = {targets.edge} "
            "(blocked-country requests left out: a real edge takes the country from the network)",
        )
    else:
        setup = (
            f"Local emulation, {config.edge_runtime} edge: user-to-edge RTT "
            f"{config.user_edge_rtt_ms:g} ms, edge-to-origin {config.edge_origin_rtt_ms:g} ms, "
            f"so user-to-origin (direct) {config.user_origin_rtt_ms:g} ms",
        )
    return ReportContext(
        title="Latency: direct to the origin vs through the edge",
        setup_lines=(
            *setup,
            f"Each run: {config.duration_s:g} s at {config.rate:g} req/s "
            f"({users} Locust users x {user_rate:.3g}/s, Poisson arrivals), after a warm-up; "
            "a scenario's direct and edge runs go side by side, at the same time",
        ),
        files=(
            PLOT_PNG,
            SUMMARY_JSON,
            *(
                f"{planned.label}.html, {planned.label}_stats.csv, {planned.label}_samples.csv"
                for planned in runs
            ),
            "logs/ (origin, edge and Locust output)",
        ),
    )


def _settings(config: BenchConfig, targets: Targets, started_at: str) -> dict[str, Any]:
    from importlib.metadata import version

    users, user_rate = users_for(config.rate)
    return {
        "started_at": started_at,
        "mode": "remote" if config.remote else "local",
        "edge_runtime": None if config.remote else config.edge_runtime,
        "user_edge_rtt_ms": None if config.remote else config.user_edge_rtt_ms,
        "edge_origin_rtt_ms": None if config.remote else config.edge_origin_rtt_ms,
        "duration_s": config.duration_s,
        "rate": config.rate,
        "users": users,
        "user_rate": user_rate,
        "targets": {"direct": targets.direct, "edge": targets.edge},
        "scenarios": list(config.scenarios),
        "locust_version": version("locust"),
    }
