"""Passwords: Argon2id hashes, a length-first policy, and equal work for unknown accounts."""

from __future__ import annotations

import statistics
import time

import anyio
import pytest
from argon2 import PasswordHasher

from origin.identity.passwords import (
    hash_password,
    hash_password_off_loop,
    hashing_limiter,
    needs_rehash,
    policy_problems,
    verify_password,
    verify_password_off_loop,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 10 characters"),
        ("a" * 257, "at most 256 characters"),
        ("abababababab", "at least 4 different characters"),
        ("Alice@Example.com!", "e-mail address"),
    ],
)
def test_a_weak_password_is_refused_with_what_to_change(password: str, problem: str) -> None:
    problems = policy_problems(password, email="alice@example.com")

    assert any(problem in text for text in problems), problems


def test_a_long_password_of_any_characters_is_accepted() -> None:
    assert policy_problems("correct horse battery staple", email="alice@example.com") == []
    assert policy_problems("ünïcödé pässwörd ✓", email="alice@example.com") == []


def test_a_hash_is_argon2id_and_verifies_only_its_password() -> None:
    hashed = hash_password("correct horse battery staple")

    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery staple") is True
    assert verify_password(hashed, "correct horse battery stapler") is False


def test_no_account_never_verifies_even_with_the_dummy_password() -> None:
    assert verify_password(None, "outpost-dummy-password-for-unknown-accounts") is False
    assert verify_password("not a hash", "anything") is False


def test_a_hash_made_with_weaker_parameters_asks_to_be_replaced() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw-1234567")

    assert needs_rehash(weak) is True
    assert needs_rehash(hash_password("pw-1234567")) is False


def test_checking_an_unknown_account_costs_as_much_as_checking_a_real_one() -> None:
    hashed = hash_password("correct horse battery staple")

    def median_seconds(password_hash: str | None) -> float:
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            verify_password(password_hash, "wrong password entirely")
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    known, unknown = median_seconds(hashed), median_seconds(None)

    assert 0.5 < unknown / known < 2.0


async def test_hashing_runs_off_the_event_loop() -> None:
    limiter = hashing_limiter()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.sleep(0.001)

    async with anyio.create_task_group() as group:
        group.start_soon(tick)
        hashed = await hash_password_off_loop("correct horse battery staple", limiter)
        assert await verify_password_off_loop(hashed, "correct horse battery staple", limiter)
        group.cancel_scope.cancel()

    # Two Argon2 runs take tens of milliseconds; the loop kept turning meanwhile.
    assert ticks >= 5


def test_hashes_use_owasps_argon2id_baseline_of_19_mib_and_two_passes() -> None:
    assert "$m=19456,t=2,p=1$" in hash_password("correct horse battery staple")
