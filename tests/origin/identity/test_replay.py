"""``NonceGuard.settle``: the verdict on a nonce claimed in someone else's store call (the rate
limiter's), decided by whether that call was answered, never by the store's health afterwards."""

from __future__ import annotations

from origin.identity.replay import NonceGuard
from origin.kv.memory_store import MemoryStore

NOW = 1_000.0
EXPIRES_AT = NOW + 30.0


def test_a_nonce_the_store_held_already_is_a_replay() -> None:
    guard = NonceGuard(MemoryStore())

    assert not guard.settle("n", b"1", answered=True, expires_at=EXPIRES_AT, now=NOW)


def test_a_claim_the_store_answered_is_a_first_use_it_keeps_not_this_process() -> None:
    guard = NonceGuard(MemoryStore())

    assert guard.settle("n", None, answered=True, expires_at=EXPIRES_AT, now=NOW)
    assert guard.local_nonce_count == 0


def test_an_unanswered_claim_is_remembered_here_though_the_store_is_healthy_again() -> None:
    # The store is healthy by the time the check concludes (another request brought it back),
    # but it never saw this claim: only this process's memory can refuse the replay.
    store = MemoryStore()
    guard = NonceGuard(store)
    assert store.healthy

    assert guard.settle("n", None, answered=False, expires_at=EXPIRES_AT, now=NOW)
    assert guard.seen_locally("n", NOW + 1)
    assert not guard.settle("n", None, answered=False, expires_at=EXPIRES_AT, now=NOW + 1)
    assert not guard.seen_locally("n", EXPIRES_AT + 1)  # forgotten once it cannot be used
