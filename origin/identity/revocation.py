"""Refusing the access tokens of a revoked session at once, before they expire.

The database records revocations (``auth_sessions.revoked_at``); the key-value store holds a
marker per revoked session for as long as that session's access tokens can live, so checking a
token costs one Redis ``GET``, or nothing more than the rate limiter's call, which reads the
marker for the authenticator (:meth:`RevocationList.judge` then decides from what it read).
When the store does not answer (``store.healthy`` is false) the check asks the database instead:
a revoked token is never accepted because Redis is down.

Two gaps are closed here as well:

- a revocation made while the store is down is kept in this process and written to the store
  once it answers again (other processes ask the database meanwhile);
- a store that starts empty (a restarted origin with the in-process store, a Redis that lost its
  data) is refilled from the database at start-up with the sessions revoked recently enough for
  their tokens to be alive.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.identity.sessions import revoke_session, revoked_since, session_revoked
from origin.kv import Store, StoreUnavailable

logger = logging.getLogger("outpost.origin.identity")

MARKER = b"1"


def marker_key(session_id: str) -> str:
    return f"revoked-session:{session_id}"


class RevocationList:
    """``revoke`` a session, ask whether one ``is_revoked``.

    ``marker_ttl_seconds`` must cover an access token's life plus the verification leeway: after
    that, every token of the session has expired and the marker can go.
    """

    def __init__(
        self,
        store: Store,
        sessions: async_sessionmaker[AsyncSession],
        *,
        marker_ttl_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._ttl = marker_ttl_seconds
        self._clock = clock
        # session id -> when its marker may be dropped; written to the store when it answers.
        self._unwritten: dict[str, float] = {}
        self._warned = False

    async def revoke(self, session_id: str, *, reason: str) -> bool:
        """Revoke in the database, then mark in the store; False if it was already revoked."""
        now = self._clock()
        async with self._sessions() as session:
            changed = await revoke_session(
                session, session_id, now=datetime.fromtimestamp(now, UTC), reason=reason
            )
        await self.mark(session_id)
        return changed

    async def mark(self, session_id: str) -> None:
        """Refuse the session's tokens from now on (the database is already up to date)."""
        self._unwritten[session_id] = self._clock() + self._ttl
        await self._write_markers()

    async def is_revoked(self, session_id: str) -> bool:
        marker = await self._store.get(marker_key(session_id))
        return await self.judge(session_id, marker, answered=self._store.healthy)

    async def judge(self, session_id: str, marker: bytes | None, *, answered: bool) -> bool:
        """Whether the session is revoked, given what the store held under its
        :func:`marker_key` (read by the caller, e.g. in the rate limiter's call) and whether the
        store ``answered`` that read (unanswered: the database decides)."""
        if self._unwritten:
            # Kept during an outage: revoked, whether or not its marker is written now (``marker``
            # may have been read before this writes it).
            kept = session_id in self._unwritten
            await self._write_markers()
            if kept:
                return True
        if marker is not None:
            return True
        if not answered:
            async with self._sessions() as session:
                return await session_revoked(session, session_id)
        return False

    async def refill(self) -> int:
        """Mark every session revoked within the markers' lifetime (at start-up)."""
        since = datetime.fromtimestamp(self._clock() - self._ttl, UTC)
        async with self._sessions() as session:
            revoked = await revoked_since(session, since)
        for session_id in revoked:
            self._unwritten[session_id] = self._clock() + self._ttl
        await self._write_markers()
        return len(revoked)

    async def _write_markers(self) -> None:
        now = self._clock()
        for session_id, until in list(self._unwritten.items()):
            if until > now:
                try:
                    await self._store.set(marker_key(session_id), MARKER, until - now)
                except StoreUnavailable:
                    if not self._warned:
                        self._warned = True
                        logger.warning("store unavailable: revocations kept until it answers")
                    return
            self._unwritten.pop(session_id, None)
        self._warned = False
