"""Login sessions: refresh tokens rotate, a reused one revokes its session (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.identity.accounts import Account, find_login, register
from origin.identity.sessions import (
    IssuedSession,
    RefreshRefused,
    RefusalReason,
    open_session,
    revoke_session,
    revoked_since,
    rotate_refresh_token,
    session_revoked,
)

pytestmark = pytest.mark.anyio

NOW = datetime(2027, 1, 1, tzinfo=UTC)
TTL = timedelta(days=30)
Sessions = async_sessionmaker[AsyncSession]


async def signed_in(sessions: Sessions, email: str = "a@example.com") -> IssuedSession:
    async with sessions() as session:
        await register(session, email=email, password_hash="h", now=NOW)
        record = await find_login(session, email)
        assert record is not None
        return await open_session(session, record.account, now=NOW, refresh_ttl=TTL)


async def rotate(sessions: Sessions, token: str, at: datetime = NOW) -> IssuedSession:
    async with sessions() as session:
        return await rotate_refresh_token(session, token, now=at, refresh_ttl=TTL)


async def refusal(sessions: Sessions, token: str, at: datetime = NOW) -> RefreshRefused:
    with pytest.raises(RefreshRefused) as raised:
        await rotate(sessions, token, at)
    return raised.value


async def test_a_refresh_spends_the_token_and_hands_out_a_new_one(sessions: Sessions) -> None:
    issued = await signed_in(sessions)

    rotated = await rotate(sessions, issued.refresh_token)
    again = await rotate(sessions, rotated.refresh_token)

    assert rotated.session_id == again.session_id == issued.session_id
    assert len({issued.refresh_token, rotated.refresh_token, again.refresh_token}) == 3
    assert isinstance(rotated.account, Account)
    assert rotated.account.email == "a@example.com"


async def test_a_reused_refresh_token_revokes_the_whole_session(sessions: Sessions) -> None:
    issued = await signed_in(sessions)
    successor = await rotate(sessions, issued.refresh_token)

    reused = await refusal(sessions, issued.refresh_token)

    assert reused.reason is RefusalReason.REUSED
    assert reused.session_id == issued.session_id
    # The legitimate successor is dead too: nobody can tell which copy was the thief's.
    assert (await refusal(sessions, successor.refresh_token)).reason is RefusalReason.REVOKED
    async with sessions() as session:
        assert await session_revoked(session, issued.session_id)


async def test_of_two_concurrent_refreshes_with_one_token_exactly_one_wins(
    sessions: Sessions,
) -> None:
    issued = await signed_in(sessions)

    results = await asyncio.gather(
        rotate(sessions, issued.refresh_token),
        rotate(sessions, issued.refresh_token),
        return_exceptions=True,
    )

    won = [result for result in results if isinstance(result, IssuedSession)]
    lost = [result for result in results if isinstance(result, RefreshRefused)]
    assert (len(won), len(lost)) == (1, 1)
    assert lost[0].reason is RefusalReason.REUSED
    async with sessions() as session:
        assert await session_revoked(session, issued.session_id)


async def test_unknown_and_expired_refresh_tokens_are_refused_without_revoking(
    sessions: Sessions,
) -> None:
    issued = await signed_in(sessions)

    unknown = await refusal(sessions, "rt_made-up")
    expired = await refusal(sessions, issued.refresh_token, at=NOW + TTL)

    assert unknown.reason is RefusalReason.UNKNOWN
    assert expired.reason is RefusalReason.EXPIRED
    async with sessions() as session:
        assert not await session_revoked(session, issued.session_id)


async def test_a_revoked_session_refreshes_no_more(sessions: Sessions) -> None:
    issued = await signed_in(sessions)
    async with sessions() as session:
        assert await revoke_session(session, issued.session_id, now=NOW, reason="logout")
        assert not await revoke_session(session, issued.session_id, now=NOW, reason="logout")

    assert (await refusal(sessions, issued.refresh_token)).reason is RefusalReason.REVOKED


async def test_the_database_lists_recent_revocations_and_counts_missing_sessions_as_revoked(
    sessions: Sessions,
) -> None:
    old = await signed_in(sessions, "old@example.com")
    recent = await signed_in(sessions, "recent@example.com")
    live = await signed_in(sessions, "live@example.com")
    async with sessions() as session:
        await revoke_session(session, old.session_id, now=NOW - timedelta(hours=1), reason="x")
        await revoke_session(session, recent.session_id, now=NOW, reason="x")

        listed = await revoked_since(session, NOW - timedelta(minutes=20))
        assert not await session_revoked(session, live.session_id)
        assert await session_revoked(session, "no-such-session")

    assert listed == [recent.session_id]
