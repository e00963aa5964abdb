"""Accounts in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from origin.identity.accounts import (
    DEFAULT_ROLES,
    find_account,
    find_login,
    normalise_email,
    register,
    replace_password_hash,
    set_roles,
)

pytestmark = pytest.mark.anyio

NOW = datetime(2027, 1, 1, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


async def test_an_address_registers_once_whatever_its_spelling(sessions: Sessions) -> None:
    async with sessions() as session:
        first = await register(session, email="Alice@Example.com", password_hash="h1", now=NOW)
        again = await register(session, email=" alice@example.COM ", password_hash="h2", now=NOW)

        record = await find_login(session, "ALICE@example.com")

    assert (first, again) == (True, False)
    assert record is not None
    assert record.password_hash == "h1"  # the second registration changed nothing
    assert record.account.email == "alice@example.com"
    assert record.account.roles == DEFAULT_ROLES


async def test_accounts_get_random_subjects_that_find_them(sessions: Sessions) -> None:
    async with sessions() as session:
        await register(session, email="a@example.com", password_hash="h", now=NOW)
        await register(session, email="b@example.com", password_hash="h", now=NOW)
        a = await find_login(session, "a@example.com")
        b = await find_login(session, "b@example.com")
        assert a is not None
        assert b is not None

        found = await find_account(session, a.account.subject)

    assert a.account.subject.startswith("usr_")
    assert a.account.subject != b.account.subject
    assert found == a.account


async def test_unknown_addresses_and_subjects_find_nothing(sessions: Sessions) -> None:
    async with sessions() as session:
        assert await find_login(session, "nobody@example.com") is None
        assert await find_account(session, "usr_nobody") is None


async def test_a_password_hash_and_roles_can_be_replaced(sessions: Sessions) -> None:
    async with sessions() as session:
        await register(session, email="a@example.com", password_hash="old", now=NOW)
        record = await find_login(session, "a@example.com")
        assert record is not None

        await replace_password_hash(session, record.account.id, "new")
        assert await set_roles(session, record.account.subject, frozenset({"admin"}))
        assert not await set_roles(session, "usr_nobody", frozenset({"admin"}))
        changed = await find_login(session, "a@example.com")

    assert changed is not None
    assert changed.password_hash == "new"
    assert changed.account.roles == {"admin"}


def test_addresses_are_compared_trimmed_and_lower_case() -> None:
    assert normalise_email("  Bob@Example.ORG ") == "bob@example.org"
