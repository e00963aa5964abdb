"""The clock and randomness ports as both runtimes provide them: the standard library's.

Under Pyodide, ``time`` reads ``Date.now()``, which Workers advance only across I/O (a Spectre
mitigation): durations measured inside one pure computation read as zero, which is fine for the
edge's purposes; ``secrets`` reads ``crypto.getRandomValues``.
"""

from __future__ import annotations

import secrets
import time


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class SystemRandom:
    def token(self, nbytes: int) -> str:
        return secrets.token_urlsafe(nbytes)

    def hex(self, nbytes: int) -> str:
        return secrets.token_hex(nbytes)
