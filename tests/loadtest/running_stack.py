"""A real local bench stack (origin, CPython edge, WAN proxies) for synchronous tests: served
by its own event loop in a thread, stopped on exit."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path

from loadtest.bench.plan import BenchConfig
from loadtest.bench.stack import LocalStack, StackUrls


class RunningStack:
    """A LocalStack served by its own event loop in a thread, for synchronous tests."""

    def __init__(
        self, log_dir: Path, user_edge_rtt_ms: float = 10.0, edge_origin_rtt_ms: float = 80.0
    ) -> None:
        self.log_dir = log_dir
        self.config = BenchConfig(
            log_dir, user_edge_rtt_ms=user_edge_rtt_ms, edge_origin_rtt_ms=edge_origin_rtt_ms
        )
        self.ready = threading.Event()
        self.urls: StackUrls | None = None
        self.tokens: tuple[str, ...] = ()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RunningStack:
        self._thread.start()
        self.ready.wait(timeout=120)
        if self.error is not None:
            raise self.error
        assert self.urls is not None, "the stack did not start in time"
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the test thread
            self.error = error
            self.ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = self.config
        with tempfile.TemporaryDirectory() as work_dir:
            async with LocalStack(config, Path(work_dir), self.log_dir, lambda _: None) as stack:
                self.urls, self.tokens = stack.urls, stack.tokens
                self.ready.set()
                await self._stop.wait()
