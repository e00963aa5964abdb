"""A redis-server of the test's own, on a free port, that the test may kill, freeze and restart.

The shared Redis must never go down under other engineers' tests; this one exists for that.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.support.ports import free_port

START_TIMEOUT_SECONDS = 5.0


class RedisServer:
    def __init__(self, executable: str, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, on the same port) and return once it answers PING."""
        self._process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_until_answering()

    def kill(self) -> None:
        """SIGKILL: connections are refused from now on, the data is gone."""
        process = self._require_process()
        process.kill()
        process.wait(timeout=5)

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers (a hung server)."""
        os.kill(self._require_process().pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self._require_process().pid, signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self.thaw()
            self._process.kill()
            self._process.wait(timeout=5)

    def _require_process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "start() the server first"
        return self._process

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self._require_process().poll() is not None:
                        raise
                    time.sleep(0.02)
        finally:
            client.close()
