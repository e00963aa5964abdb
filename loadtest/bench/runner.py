"""One Locust run of the bench: started, followed on the progress line, always stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from loadtest.bench.plan import BenchConfig, PlannedRun, locust_command
from loadtest.bench.processes import ChildProcess
from loadtest.bench.progress import Progress, latest_history, run_line

LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfile.py"
REFRESH_SECONDS = 0.5


async def run_locust(
    run: PlannedRun,
    total_runs: int,
    config: BenchConfig,
    host: str,
    out_dir: Path,
    env: Mapping[str, str],
    progress: Progress,
) -> int:
    """Run one scenario against one host; Locust's exit code (1 when requests failed)."""
    prefix = out_dir / run.label
    process = ChildProcess(
        f"locust ({run.label})",
        locust_command(run, config, host, prefix, LOCUSTFILE),
        env,
        out_dir / "logs" / f"{run.label}.log",
        cwd=out_dir,  # so no locust.conf of the caller's directory changes the run
    )
    history = prefix.with_name(prefix.name + "_stats_history.csv")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await process.start()
    try:
        finished = asyncio.ensure_future(process.wait())
        while not finished.done():
            progress.update(
                run_line(
                    run,
                    total_runs,
                    loop.time() - started,
                    config.duration_s,
                    latest_history(history),
                )
            )
            await asyncio.wait({finished}, timeout=REFRESH_SECONDS)
        code = finished.result()
    finally:
        await process.stop()
    progress.finish(
        run_line(run, total_runs, config.duration_s, config.duration_s, latest_history(history))
    )
    return code
