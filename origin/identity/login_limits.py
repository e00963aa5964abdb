"""Login attempts are rate limited per account and per client address, before any hashing.

Per account, so a password cannot be guessed from many addresses; per address, so one client
cannot try many accounts. Both budgets are spent whether or not the account exists (the
account's bucket is keyed by a digest of the normalised address, which also keeps e-mail
addresses out of Redis), so the limits reveal nothing about which accounts exist.
"""

from __future__ import annotations

import hashlib
import math

from origin.errors import ApiError
from origin.kv import RateLimitDecision, Store

WINDOW_SECONDS = 300.0


def account_bucket(email: str) -> str:
    return "login:account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def address_bucket(address: str) -> str:
    return f"login:address:{address}"


async def spend_login_attempt(
    store: Store, *, email: str, address: str, per_account: int, per_address: int
) -> None:
    """Spend one attempt from both budgets; 429 with ``Retry-After`` when either is empty."""
    await spend_address_attempt(store, address=address, per_address=per_address)
    by_account = await store.hit(account_bucket(email), per_account, WINDOW_SECONDS)
    if not by_account.allowed:
        raise too_many_attempts(by_account)


async def spend_address_attempt(store: Store, *, address: str, per_address: int) -> None:
    """Spend from the address's budget alone (registrations: each costs a password hash)."""
    by_address = await store.hit(address_bucket(address), per_address, WINDOW_SECONDS)
    if not by_address.allowed:
        raise too_many_attempts(by_address)


def too_many_attempts(decision: RateLimitDecision) -> ApiError:
    retry_after = max(1, math.ceil(decision.retry_after_seconds))
    return ApiError(
        429,
        "too_many_attempts",
        "too many sign-in attempts; retry after the given delay",
        headers={"Retry-After": str(retry_after), "Cache-Control": "no-store"},
    )
