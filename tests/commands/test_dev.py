"""``outpost dev`` (and ./scripts/dev, which ends in it) as a user runs it: the origin and the
edge in one process, real ports."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.origin.cli.test_serve import lines_of, running
from tests.support.ports import free_port

README_START_COMMAND = Path(__file__).resolve().parents[2] / "scripts" / "dev"


def test_the_readme_start_command_serves_the_app_through_the_edge_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    # ./scripts/dev itself: the environment is already set up, so it goes on to `outpost dev`.
    origin_port, edge_port = free_port(), free_port()
    env = {"OUTPOST_DATA_DIR": str(tmp_path), "OUTPOST_LOG_LEVEL": "WARNING"}
    args = ["--port", str(origin_port), "--edge-port", str(edge_port)]
    with running(args, env, command=[str(README_START_COMMAND)]) as process:
        # The URLs come out once both servers answer; a Ctrl-C before that (a test that polled
        # the edge and stopped at once) rightly says nothing about them, so wait for the line.
        announced = next(line for line in lines_of(process) if line.startswith("dev: edge"))
        edge = f"http://127.0.0.1:{edge_port}"
        first = httpx.get(f"{edge}/api/products/1")  # template:demo
        second = httpx.get(f"{edge}/api/products/1")  # template:demo
        # template:no-demo: first = httpx.get(f"{edge}/api/hello")
        origin_health = httpx.get(f"http://127.0.0.1:{origin_port}/healthz")
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)

    assert first.status_code == 200
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")  # template:demo
    # template:no-demo: assert first.json() == {"message": "hello, world"}
    assert origin_health.json() == {"status": "ok"}
    assert code == 0
    assert announced.startswith(f"dev: edge    http://127.0.0.1:{edge_port}")
    assert (tmp_path / "keys" / "signing-keys.json").is_file(), "a dev key is made on first run"


def test_dev_prints_its_urls_only_once_the_origin_and_the_edge_both_answer(
    tmp_path: Path,
) -> None:
    origin_port, edge_port = free_port(), free_port()
    env = {"OUTPOST_DATA_DIR": str(tmp_path), "OUTPOST_LOG_LEVEL": "WARNING"}
    args = ["dev", "--port", str(origin_port), "--edge-port", str(edge_port)]
    with running(args, env) as process:
        lines = lines_of(process)
        announced = next(line for line in lines if line.startswith("dev: edge"))
        # No retries: once the URLs are out, both must answer at the first attempt.
        origin = httpx.get(f"http://127.0.0.1:{origin_port}/healthz", timeout=5)
        edge = httpx.get(f"http://127.0.0.1:{edge_port}/healthz", timeout=5)
        process.send_signal(signal.SIGINT)
        said_after = list(lines)  # to the end of its output, when it has exited
        code = process.wait(timeout=20)

    assert code == 0, said_after

    assert f"http://127.0.0.1:{edge_port}" in announced
    assert (origin.status_code, edge.status_code) == (200, 200)
