"""``outpost soak``'s course: start the bench's stack, measure capacity, soak, stop, report.

Exit codes as ``outpost bench``: 0 passed (no unintended error, memory flat within noise), 1 a
check failed, 2 the soak could not run, 130 interrupted, 143 terminated; whatever happens, it
stops everything it started.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from loadtest.bench import preparation
from loadtest.bench.main import COUNTRY, run_command
from loadtest.bench.plan import MAX_RATE, RUNTIMES, BenchConfig, PlannedRun
from loadtest.bench.processes import ProcessFailed
from loadtest.bench.progress import Progress
from loadtest.bench.runner import run_round
from loadtest.bench.stack import LocalStack
from loadtest.report.samples import Sample, read_samples
from loadtest.report.summary import SETUP_SCENARIO
from loadtest.soak import analysis, capacity
from loadtest.soak.report import SUMMARY_MD, SoakReport, write
from loadtest.soak.resources import ResourceSampler, read_resources
from loadtest.tokens import TOKENS_VARIABLE

SCENARIO = "mix"
TARGET = "edge"
RESOURCES_CSV = "resources.csv"


@dataclass(frozen=True, slots=True)
class SoakConfig:
    out_dir: Path
    minutes: float
    fraction: float = 0.5
    p99_bound_ms: float = 250.0
    rate: float | None = None  # given: the capacity is not measured
    step_seconds: float = 20.0
    sample_interval_s: float = 2.0
    edge_runtime: str = "cpython"
    user_edge_rtt_ms: float = 0.0
    edge_origin_rtt_ms: float = 0.0


def problems(config: SoakConfig) -> list[str]:
    found = []
    if config.minutes <= 0:
        found.append("--minutes must be positive")
    if not 0 < config.fraction <= 1:
        found.append("--fraction must be above 0 and at most 1")
    if config.p99_bound_ms <= 0:
        found.append("--p99-bound-ms must be positive")
    if config.rate is not None and not 0 < config.rate <= MAX_RATE:
        found.append(f"--rate must be above 0 and at most {MAX_RATE:g} req/s")
    if config.step_seconds <= 0:
        found.append("--step-seconds must be positive")
    if config.edge_runtime not in RUNTIMES:
        found.append(f"--edge-runtime must be one of {', '.join(RUNTIMES)}")
    return found


def run(config: SoakConfig) -> int:
    return run_command("soak", problems(config), lambda: soak(config, Progress(sys.stdout)))


async def soak(config: SoakConfig, progress: Progress) -> int:
    out_dir = config.out_dir.resolve()
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    bench_config = BenchConfig(
        out_dir,
        edge_runtime=config.edge_runtime,
        user_edge_rtt_ms=config.user_edge_rtt_ms,
        edge_origin_rtt_ms=config.edge_origin_rtt_ms,
        scenarios=(SCENARIO,),
    )
    try:
        with tempfile.TemporaryDirectory(prefix="outpost-soak-") as work_dir:
            async with LocalStack(
                bench_config, Path(work_dir), out_dir / "logs", progress.note
            ) as stack:
                edge = stack.urls.edge
                await preparation.restock(edge, stack.admin_token, COUNTRY)
                warmed = await preparation.warm_up(edge, stack.tokens, COUNTRY)
                progress.note(f"restocked and warmed up ({warmed} requests through the edge)")
                env = {**os.environ, TOKENS_VARIABLE: ",".join(stack.tokens)}
                steps = await _capacity(config, edge, out_dir, env, progress)
                rate = _soak_rate(config, steps)
                if rate is None:
                    print(
                        f"outpost soak: even {capacity.START_RATE:g} req/s exceeds the p99 bound "
                        f"of {config.p99_bound_ms:g} ms or fails; see {out_dir / 'capacity'}",
                        file=sys.stderr,
                    )
                    return 2
                processes = {p.name: p.pid for p in stack.processes if p.pid is not None}
                code = await _soak(config, rate, edge, out_dir, env, processes, progress)
            progress.note("stopped everything the soak started")
    except (ProcessFailed, preparation.PreparationFailed, httpx.HTTPError) as error:
        print(f"outpost soak: {error}", file=sys.stderr)
        return 2
    if code not in (0, 1):
        print(
            f"outpost soak: Locust exited with code {code}; see {out_dir / 'logs'}", file=sys.stderr
        )
        return 2
    report = _report(config, steps, rate, out_dir, started_at)
    write(out_dir, report, read_resources(out_dir / RESOURCES_CSV))
    progress.note(f"report written to {out_dir}")
    print((out_dir / SUMMARY_MD).read_text(encoding="utf-8"))
    return 0 if report.passed else 1


async def _capacity(
    config: SoakConfig, edge: str, out_dir: Path, env: dict[str, str], progress: Progress
) -> list[capacity.Step]:
    if config.rate is not None:
        return []

    taken: list[float] = []

    async def run_step(rate: float) -> capacity.Step:
        taken.append(rate)
        step_dir = out_dir / "capacity" / f"{rate:g}"
        samples = await _locust(
            config, rate, config.step_seconds, edge, step_dir, env, progress, len(taken)
        )
        step = capacity.step_of(rate, config.step_seconds, samples)
        verdict = "passed" if step.passes(config.p99_bound_ms) else "failed"
        p99 = "-" if step.p99_ms is None else f"{step.p99_ms:.1f}"
        progress.note(
            f"capacity step {rate:g} req/s: p99 {p99} ms, {step.errors} errors, "
            f"{step.achieved_rate:.1f} req/s achieved: {verdict}"
        )
        return step

    steps = await capacity.measure_capacity(run_step, config.p99_bound_ms)
    found = capacity.capacity(steps, config.p99_bound_ms)
    progress.note(f"capacity: {found} req/s (p99 under {config.p99_bound_ms:g} ms)")
    return steps


def _soak_rate(config: SoakConfig, steps: list[capacity.Step]) -> float | None:
    if config.rate is not None:
        return config.rate
    found = capacity.capacity(steps, config.p99_bound_ms)
    return None if found is None else round(found * config.fraction, 1)


async def _soak(
    config: SoakConfig,
    rate: float,
    edge: str,
    out_dir: Path,
    env: dict[str, str],
    processes: dict[str, int],
    progress: Progress,
) -> int:
    """Run the mix for the soak's length while sampling resources; Locust's exit code."""
    progress.note(f"soaking: {config.minutes:g} min at {rate:g} req/s through the edge")
    stop = asyncio.Event()
    sampler = ResourceSampler(
        processes, out_dir / RESOURCES_CSV, config.sample_interval_s, time.monotonic()
    )
    sampling = asyncio.create_task(sampler.run(stop))
    try:
        run = PlannedRun(1, TARGET, SCENARIO)
        bench_config = _locust_config(config, rate, config.minutes * 60, out_dir)
        (code,) = await run_round([run], 1, bench_config, {TARGET: edge}, out_dir, env, progress)
    finally:
        stop.set()
        await sampling
    return code


def _locust_config(config: SoakConfig, rate: float, seconds: float, out_dir: Path) -> BenchConfig:
    return BenchConfig(
        out_dir,
        edge_runtime=config.edge_runtime,
        duration_s=seconds,
        rate=rate,
        scenarios=(SCENARIO,),
    )


async def _locust(
    config: SoakConfig,
    rate: float,
    seconds: float,
    edge: str,
    out_dir: Path,
    env: dict[str, str],
    progress: Progress,
    number: int,
) -> list[Sample]:
    run = PlannedRun(number, TARGET, SCENARIO)
    bench_config = _locust_config(config, rate, seconds, out_dir)
    await run_round([run], number, bench_config, {TARGET: edge}, out_dir, env, progress)
    return _measured(read_samples(out_dir / f"{run.label}_samples.csv"))


def _measured(samples: list[Sample]) -> list[Sample]:
    """The scenario's own requests (not the sign-in and catalog fetches of a user's start)."""
    return [s for s in samples if not s.name.startswith(f"{SETUP_SCENARIO}:")]


def _report(
    config: SoakConfig,
    steps: list[capacity.Step],
    rate: float,
    out_dir: Path,
    started_at: str,
) -> SoakReport:
    samples = _measured(read_samples(out_dir / f"{TARGET}-{SCENARIO}_samples.csv"))
    resources = read_resources(out_dir / RESOURCES_CSV)
    by_process: dict[str, list[analysis.ResourceSample]] = {}
    for item in resources:
        by_process.setdefault(item.process, []).append(item)
    growth = [
        found
        for name, items in by_process.items()
        if (found := analysis.growth(name, items)) is not None
    ]
    return SoakReport(
        settings=_settings(config, started_at, steps),
        capacity_steps=steps,
        capacity_rate=capacity.capacity(steps, config.p99_bound_ms) if steps else None,
        rate=rate,
        requests=len(samples),
        errors_by_kind=analysis.errors_by_kind(samples),
        overall=analysis.overall_percentiles(samples),
        minutes=analysis.per_minute(samples),
        growth=growth,
    )


def _settings(config: SoakConfig, started_at: str, steps: list[capacity.Step]) -> dict[str, Any]:
    return {
        "started_at": started_at,
        "minutes": config.minutes,
        "fraction": config.fraction,
        "p99_bound_ms": config.p99_bound_ms,
        "rate_source": "given with --rate"
        if not steps
        else f"{config.fraction:g} x the measured capacity",
        "step_seconds": config.step_seconds,
        "sample_interval_s": config.sample_interval_s,
        "edge_runtime": config.edge_runtime,
        "user_edge_rtt_ms": config.user_edge_rtt_ms,
        "edge_origin_rtt_ms": config.edge_origin_rtt_ms,
        "load_average": os.getloadavg(),
    }
