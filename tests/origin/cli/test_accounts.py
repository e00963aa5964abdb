"""``outpost accounts``: an operator shows, grants and revokes an account's roles, on SQLite and
PostgreSQL, through the real command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from origin.cli.accounts import changed_roles
from origin.db import create_engine, session_factory
from origin.identity.accounts import find_login, register

pytestmark = pytest.mark.anyio
EMAIL = "ops@example.com"


async def roles_of(url: str, email: str) -> frozenset[str] | None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with session_factory(engine)() as session:
            found = await find_login(session, email)
    finally:
        await engine.dispose()
    return None if found is None else found.account.roles


async def registered(url: str, email: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with session_factory(engine)() as session:
            await register(session, email=email, password_hash="x", now=datetime.now(UTC))
    finally:
        await engine.dispose()


def accounts_command(url: str, tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "commands", "accounts", *arguments],
        env={**os.environ, "DATABASE_URL": url, "OUTPOST_DATA_DIR": str(tmp_path)},
        cwd=tmp_path,  # no .env of the developer's
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_an_operator_makes_an_account_admin_and_takes_it_back(
    migrated_url: str, tmp_path: Path
) -> None:
    await registered(migrated_url, EMAIL)

    shown = accounts_command(migrated_url, tmp_path, "show", EMAIL)
    granted = accounts_command(
        migrated_url, tmp_path, "grant", "Ops@Example.com", "admin", "support"
    )
    after_grant = await roles_of(migrated_url, EMAIL)
    revoked = accounts_command(migrated_url, tmp_path, "revoke", EMAIL, "admin", "customer")

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{EMAIL} usr_")
    assert shown.stdout.rstrip().endswith("roles: customer")
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.rstrip().endswith("roles: admin customer support")
    assert after_grant == frozenset({"admin", "customer", "support"})
    assert revoked.returncode == 0, revoked.stderr
    assert await roles_of(migrated_url, EMAIL) == frozenset({"support"})


async def test_an_unknown_address_is_an_error_that_changes_nothing(
    migrated_url: str, tmp_path: Path
) -> None:
    await registered(migrated_url, EMAIL)
    result = accounts_command(migrated_url, tmp_path, "grant", "nobody@example.com", "admin")
    assert result.returncode == 1
    assert "no account has the address 'nobody@example.com'" in result.stderr
    assert await roles_of(migrated_url, EMAIL) == frozenset({"customer"})


async def test_a_malformed_role_is_refused_before_the_database_is_touched(tmp_path: Path) -> None:
    result = accounts_command(
        "sqlite:///does-not-matter.db", tmp_path, "grant", EMAIL, "Admin Role"
    )
    assert result.returncode == 2
    assert "'Admin Role' is not a role" in result.stderr
    assert not (tmp_path / "does-not-matter.db").exists()


async def test_an_unmigrated_database_says_what_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = accounts_command(url, tmp_path, "show", EMAIL)
    assert result.returncode == 1
    assert "outpost db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_roles_are_granted_and_revoked_as_sets() -> None:
    current = frozenset({"customer"})
    assert changed_roles(current, grant=["admin", "admin"]) == {"admin", "customer"}
    assert changed_roles(current, revoke=["admin"]) == current
    assert changed_roles(current, grant=["admin"], revoke=["admin"]) == current


def test_roles_that_would_not_fit_the_account_record_are_refused() -> None:
    many = [f"role-{number:03d}-{'x' * 50}" for number in range(5)]
    with pytest.raises(ValueError, match="an account holds 255"):
        changed_roles(frozenset(), grant=many)
