"""Replay detection for edge assertions: each nonce is accepted once within its validity window.

The shared store decides (an atomic write-if-absent with a TTL), so a replay is caught whichever
origin process it reaches. On a rate-limited route the write rides in the rate limiter's store
call (a claim, :class:`~origin.kv.Lookup`: :meth:`NonceGuard.claim_ttl` and
:meth:`NonceGuard.settle`); elsewhere :meth:`NonceGuard.first_use` makes its own call.

When the store is down we keep accepting assertions, checking nonces in this process's memory
until the store answers again. Failing closed (503) would turn a Redis outage into an outage of
every authenticated request coming through the edge, which is nearly all traffic; what the local
check gives up is small: a replay needs an assertion captured on the edge-to-origin hop (TLS), it
is bound to one method and path, it expires within the window (30 s), and it is still refused by
the process that saw the original. The local memory is also consulted while the store is up, so
a nonce first seen during the outage cannot be replayed once the store is back.
"""

from __future__ import annotations

import logging

from origin.kv import Store, StoreUnavailable
from origin.kv.base import CLAIMED

logger = logging.getLogger("outpost.origin.identity")

DEFAULT_MAX_LOCAL_NONCES = 200_000


def nonce_key(nonce: str) -> str:
    return f"assertion-nonce:{nonce}"


class NonceGuard:
    def __init__(self, store: Store, *, max_local_nonces: int = DEFAULT_MAX_LOCAL_NONCES) -> None:
        self._store = store
        self._max_local = max_local_nonces
        # nonce -> when it may be forgotten; insertion order is roughly expiry order.
        self._local: dict[str, float] = {}

    async def first_use(self, nonce: str, *, expires_at: float, now: float) -> bool:
        """True the first time ``nonce`` is presented before ``expires_at``; False for a replay."""
        if self.seen_locally(nonce, now):
            return False
        try:
            return await self._store.add(nonce_key(nonce), CLAIMED, self.claim_ttl(expires_at, now))
        except StoreUnavailable:
            self._remember_during_outage(nonce, expires_at, now)
            return True

    def seen_locally(self, nonce: str, now: float) -> bool:
        """Whether this process saw ``nonce`` while the store was down (a replay)."""
        return bool(self._local) and self._seen_locally(nonce, now)

    @staticmethod
    def claim_ttl(expires_at: float, now: float) -> float:
        """How long the store must keep a nonce: until the assertion can no longer be used."""
        return max(1.0, expires_at - now)

    def settle(
        self, nonce: str, held: bytes | None, *, answered: bool, expires_at: float, now: float
    ) -> bool:
        """Whether this is the nonce's first use, given what a claim of :func:`nonce_key` found
        there (``held``) in a store call made by someone else (the rate limiter), and whether
        the store ``answered`` that call.

        Unanswered, nothing was claimed: this process remembers the nonce instead, as
        :meth:`first_use` does.
        """
        if held is not None:
            return False
        if not answered:
            if self.seen_locally(nonce, now):
                return False
            self._remember_during_outage(nonce, expires_at, now)
        return True

    @property
    def local_nonce_count(self) -> int:
        return len(self._local)

    def _seen_locally(self, nonce: str, now: float) -> bool:
        expires_at = self._local.get(nonce)
        if expires_at is not None and expires_at > now:
            return True
        self._forget_expired(now)
        return False

    def _remember_during_outage(self, nonce: str, expires_at: float, now: float) -> None:
        if not self._local:
            logger.warning("store unavailable: assertion nonces are checked per process")
        self._remember(nonce, expires_at, now)

    def _remember(self, nonce: str, expires_at: float, now: float) -> None:
        if len(self._local) >= self._max_local:
            self._forget_expired(now)
            while len(self._local) >= self._max_local:
                # Only reachable at extreme rates: drop the oldest, whose windows end first.
                del self._local[next(iter(self._local))]
        self._local[nonce] = expires_at

    def _forget_expired(self, now: float) -> None:
        while self._local:
            oldest = next(iter(self._local))
            if self._local[oldest] > now:
                return  # entries after this one were added later and expire later
            del self._local[oldest]
