"""Password hashing (Argon2id, memory-hard) and the password policy.

Verification takes the same time whether or not the account exists: an unknown account is
checked against a dummy hash, so timing does not reveal which e-mail addresses are registered.

Hashing runs in worker threads (argon2-cffi releases the GIL), never on the event loop, where
tens of milliseconds of hashing would stall every other request. A capacity limiter bounds the
threads, and so the memory (19 MiB each) and CPU a burst of logins can take.
"""

from __future__ import annotations

import os

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256  # bounds the hashing work one request can ask for
MIN_DISTINCT_CHARACTERS = 4

# OWASP's Argon2id baseline (m=19 MiB, t=2, p=1): ~20-40 ms per hash on one core here, a cost
# that makes offline guessing expensive while a login stays fast.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1

_HASHER = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)
_DUMMY_HASH = _HASHER.hash("outpost-dummy-password-for-unknown-accounts")


def policy_problems(password: str, *, email: str) -> list[str]:
    """What is wrong with a new password (empty when it is acceptable).

    Length over composition rules (NIST SP 800-63B §3.1.1.2): at least 10 characters, not the
    e-mail address, not one character repeated.
    """
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"use at most {MAX_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        problems.append(f"use at least {MIN_DISTINCT_CHARACTERS} different characters")
    if email and email.casefold() in password.casefold():
        problems.append("do not use your e-mail address in the password")
    return problems


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; ``None`` (no such account) costs the same and is False."""
    try:
        matched = _HASHER.verify(password_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters and should be replaced at next login."""
    return _HASHER.check_needs_rehash(password_hash)


def hashing_limiter() -> anyio.CapacityLimiter:
    """How many hashes may run at once: one per core (create it inside the running event loop)."""
    return anyio.CapacityLimiter(max(2, os.cpu_count() or 2))


async def hash_password_off_loop(password: str, limiter: anyio.CapacityLimiter) -> str:
    return await anyio.to_thread.run_sync(hash_password, password, limiter=limiter)


async def verify_password_off_loop(
    password_hash: str | None, password: str, limiter: anyio.CapacityLimiter
) -> bool:
    return await anyio.to_thread.run_sync(verify_password, password_hash, password, limiter=limiter)
