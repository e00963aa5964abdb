"""A token verified recently skips the signature check, and only as long as that is safe.

Signature checks are counted at the verifier's port (:class:`shared.jwt.SignatureVerifier`): the
real PyJWT verifier, wrapped to count its calls.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from origin.identity.keyring_file import KeyringSource, save_keyring
from origin.identity.keys import Keyring, SigningKey, generate_key
from origin.identity.signature import PyJwtSignatureVerifier
from origin.identity.tokens import TokenPolicy, mint_access_token
from origin.identity.verification import TokenVerifier
from origin.identity.verified_tokens import VerifiedTokens, token_digest
from shared.jwt import Jwk, TokenErrorReason, TokenInvalid
from tests.origin.identity.conftest import Clock, OriginStarter

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000
LEEWAY = 30
POLICY = TokenPolicy(issuer="https://origin.test", audience="outpost", access_ttl_seconds=900)


class CountedSignatures:
    """The real signature verifier, counting the checks it makes."""

    def __init__(self) -> None:
        self._real = PyJwtSignatureVerifier()
        self.checks = 0

    async def verify(self, alg: str, key: Jwk, signing_input: bytes, signature: bytes) -> bool:
        self.checks += 1
        return await self._real.verify(alg, key, signing_input, signature)


class Verifier:
    """A token verifier over a keyring file, as the origin builds it."""

    def __init__(self, keys_file: Path, key: SigningKey, *, remembered: int = 100) -> None:
        save_keyring(Keyring((key,)), keys_file)
        self.keys_file = keys_file
        self.key = key
        self.signatures = CountedSignatures()
        self.tokens = TokenVerifier(
            issuer=POLICY.issuer,
            audience=POLICY.audience,
            leeway_seconds=LEEWAY,
            keyring=KeyringSource(keys_file),
            signatures=self.signatures,
            verified=VerifiedTokens(remembered),
        )

    def mint(self, subject: str = "alice", *, key: SigningKey | None = None) -> str:
        return mint_access_token(
            key or self.key, POLICY, subject=subject, roles=["customer"], session_id="s1", now=NOW
        )

    def rotate(self, *, now: int, grace_seconds: int) -> SigningKey:
        new_key = generate_key("ES256", now=now)
        keyring = Keyring.from_json(self.keys_file.read_text())
        save_keyring(keyring.rotate(new_key, now=now, grace_seconds=grace_seconds), self.keys_file)
        return new_key


@pytest.fixture
def verifier(tmp_path: Path) -> Verifier:
    return Verifier(tmp_path / "keys.json", generate_key("ES256", now=NOW))


async def test_a_second_verification_of_the_same_token_skips_the_signature_check(
    verifier: Verifier,
) -> None:
    token = verifier.mint()

    first = await verifier.tokens.verify(token, now=NOW + 1)
    second = await verifier.tokens.verify(token, now=NOW + 2)

    assert verifier.signatures.checks == 1
    assert second == first
    assert (second.subject, second.session_id) == ("alice", "s1")
    assert (verifier.tokens.verified.hits, verifier.tokens.verified.misses) == (1, 1)


async def test_a_refused_token_is_never_remembered(verifier: Verifier) -> None:
    forged = verifier.mint(key=generate_key("ES256", now=NOW))  # not in the keyring
    token = verifier.mint()
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    for _ in range(2):
        with pytest.raises(TokenInvalid):
            await verifier.tokens.verify(forged, now=NOW + 1)
        with pytest.raises(TokenInvalid) as refused:
            await verifier.tokens.verify(tampered, now=NOW + 1)
        assert refused.value.reason is TokenErrorReason.BAD_SIGNATURE

    assert len(verifier.tokens.verified) == 0


async def test_an_expired_token_is_refused_even_if_remembered(verifier: Verifier) -> None:
    token = verifier.mint()  # exp = NOW + 900
    await verifier.tokens.verify(token, now=NOW + 899)

    # At exp the entry is gone: the full check runs again (and still allows the leeway).
    await verifier.tokens.verify(token, now=NOW + 900)
    assert verifier.signatures.checks == 2
    with pytest.raises(TokenInvalid) as refused:
        await verifier.tokens.verify(token, now=NOW + 900 + LEEWAY)
    assert refused.value.reason is TokenErrorReason.EXPIRED


async def test_a_remembered_token_is_not_served_before_the_time_it_was_verified(
    verifier: Verifier,
) -> None:
    token = verifier.mint()  # nbf = NOW
    await verifier.tokens.verify(token, now=NOW + 100)

    # The clock stepped back before nbf (beyond the leeway): the full check answers, and refuses.
    with pytest.raises(TokenInvalid) as refused:
        await verifier.tokens.verify(token, now=NOW - LEEWAY - 1)
    assert refused.value.reason is TokenErrorReason.NOT_YET_VALID


async def test_a_token_of_a_key_retired_at_once_is_refused_even_if_remembered(
    verifier: Verifier,
) -> None:
    token = verifier.mint()
    await verifier.tokens.verify(token, now=NOW + 1)

    verifier.rotate(now=NOW + 2, grace_seconds=0)  # a leaked key: dropped without grace

    with pytest.raises(TokenInvalid) as refused:
        await verifier.tokens.verify(token, now=NOW + 3)
    assert refused.value.reason is TokenErrorReason.UNKNOWN_KEY


async def test_a_token_of_a_key_whose_grace_ended_is_refused_even_if_remembered(
    verifier: Verifier,
) -> None:
    token = verifier.mint()
    verifier.rotate(now=NOW + 1, grace_seconds=60)
    await verifier.tokens.verify(token, now=NOW + 2)
    await verifier.tokens.verify(token, now=NOW + 30)  # within the grace: remembered
    assert verifier.signatures.checks == 1

    with pytest.raises(TokenInvalid) as refused:
        await verifier.tokens.verify(token, now=NOW + 61)  # the grace is over
    assert refused.value.reason is TokenErrorReason.UNKNOWN_KEY


async def test_the_number_of_tokens_remembered_is_bounded(tmp_path: Path) -> None:
    verifier = Verifier(tmp_path / "keys.json", generate_key("ES256", now=NOW), remembered=2)
    tokens = [verifier.mint(f"user-{n}") for n in range(3)]

    for token in tokens:
        await verifier.tokens.verify(token, now=NOW + 1)
    await verifier.tokens.verify(tokens[2], now=NOW + 2)  # the most recent: remembered
    await verifier.tokens.verify(tokens[0], now=NOW + 3)  # the least recent: was dropped

    assert len(verifier.tokens.verified) == 2
    assert verifier.signatures.checks == 4


def test_tokens_are_remembered_by_digest_never_in_clear() -> None:
    digest = token_digest("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln")

    assert len(digest) == 64
    assert "eyJ" not in digest
    assert digest == token_digest("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln")


async def test_a_revoked_session_is_refused_even_if_its_token_is_remembered(
    start_origin: OriginStarter, migrated_url: str, clock: Clock
) -> None:
    async with start_origin(migrated_url) as origin:
        tokens = await origin.new_account("alice@example.com")
        access = tokens["access_token"]
        before = [(await origin.me(access)).status_code for _ in range(2)]
        remembered = origin.identity.tokens.verified.hits
        logout = await origin.client.post(
            "/auth/logout", headers={"Authorization": f"Bearer {access}"}
        )
        after = await origin.me(access)

    assert before == [200, 200]
    assert remembered >= 1  # the second request was answered from memory
    assert logout.status_code == 204
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "invalid_token"
