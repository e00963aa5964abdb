"""One round of the bench: a scenario's Locust runs (direct and through the edge) side by side,
followed on one progress line, always stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

from loadtest.bench.plan import BenchConfig, PlannedRun, locust_command
from loadtest.bench.processes import ChildProcess
from loadtest.bench.progress import Progress, latest_history, round_line

LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfile.py"
REFRESH_SECONDS = 0.5


async def run_round(
    runs: Sequence[PlannedRun],
    total_rounds: int,
    config: BenchConfig,
    hosts: Mapping[str, str],
    out_dir: Path,
    env: Mapping[str, str],
    progress: Progress,
) -> list[int]:
    """Run one scenario against every target at once; Locust's exit code per run (1 when
    requests failed), in the order of ``runs``. ``hosts`` maps each target to its base URL."""
    processes = [
        ChildProcess(
            f"locust ({run.label})",
            locust_command(run, config, hosts[run.target], out_dir / run.label, LOCUSTFILE),
            env,
            out_dir / "logs" / f"{run.label}.log",
            cwd=out_dir,  # so no locust.conf of the caller's directory changes the run
        )
        for run in runs
    ]
    histories = [out_dir / f"{run.label}_stats_history.csv" for run in runs]

    def line(elapsed: float) -> str:
        points = [latest_history(history) for history in histories]
        return round_line(runs, total_rounds, elapsed, config.duration_s, points)

    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        for process in processes:
            await process.start()
        finished = asyncio.ensure_future(asyncio.gather(*(p.wait() for p in processes)))
        while not finished.done():
            progress.update(line(loop.time() - started))
            await asyncio.wait({finished}, timeout=REFRESH_SECONDS)
        codes = list(finished.result())
    finally:
        for process in processes:
            await process.stop()
    progress.finish(line(config.duration_s))
    return codes
