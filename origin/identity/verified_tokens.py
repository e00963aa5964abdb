"""Tokens verified recently, remembered so that a client's next request skips the signature check.

A client sends the same access token with every request for the token's life, and checking its
signature is the dearest step of verification (ES256: see ``benchmarks/verify_tokens.py``).
What is remembered, and why it is safe:

- the entry is keyed by a SHA-256 digest of the token, never the token: the memory of a process
  holds no bearer credential it did not already hold for the request;
- it is served only between the moment its verification succeeded and the token's ``exp`` (no
  leeway): ``nbf`` and ``iat`` are lower bounds that held then, and a clock stepped back misses;
  after ``exp`` the token is verified in full again, which applies the leeway and then refuses it;
- it is tied to the key set that verified it (the object :class:`KeyringSource` rebuilds when the
  keyring changes or a key's grace period ends; an external issuer's set is replaced on each
  fetch): after a rotation or a retirement every entry misses, so a token signed by a retired key
  meets the keys of now and is refused;
- revocation is not its business: the authenticator checks the session after this, on every
  request;
- it is bounded: the least recently used entries go first.

Only successes are remembered: a refused token is checked in full every time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from origin.kv.lru import LruTtlMap
from shared.jwt import KeySet, VerifiedToken

# ~1-2 KB each (claims and header): a few MB at most, and more clients than one worker serves
# within an access token's life.
DEFAULT_REMEMBERED_TOKENS = 4096

CurrentKeys = Callable[[VerifiedToken, float], Awaitable[KeySet]]
"""The key set a token of that issuer (and key id) would be verified with at that time."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Remembered:
    verified: VerifiedToken
    keys: KeySet
    verified_at: float


class VerifiedTokens:
    def __init__(self, capacity: int = DEFAULT_REMEMBERED_TOKENS) -> None:
        self._entries: LruTtlMap[_Remembered] = LruTtlMap(capacity)
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def recall(
        self, digest: str, now: float, current_keys: CurrentKeys
    ) -> VerifiedToken | None:
        """The token verified under ``digest`` if it may stand without a new check at ``now``."""
        found = self._entries.get(digest, now)  # gone at exp
        if found is None or now < found.verified_at:
            self.misses += 1
            return None
        if await current_keys(found.verified, now) is not found.keys:
            self._entries.pop(digest)  # the keys changed: check it against the new ones
            self.misses += 1
            return None
        self.hits += 1
        return found.verified

    def remember(self, digest: str, verified: VerifiedToken, keys: KeySet, now: float) -> None:
        """Remember a token verified at ``now`` with ``keys``, until its ``exp``."""
        if now < verified.expires_at:
            self._entries.put(digest, _Remembered(verified, keys, now), verified.expires_at)
