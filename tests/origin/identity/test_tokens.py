"""Access tokens minted by the origin verify through shared.jwt with the keyring's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from origin.identity.keyring_file import KeyringSource, save_keyring
from origin.identity.keys import SUPPORTED_ALGORITHMS, Keyring, generate_key
from origin.identity.signature import PyJwtSignatureVerifier
from origin.identity.tokens import (
    TokenPolicy,
    mint_access_token,
    new_refresh_token,
    refresh_token_digest,
)
from shared.jwt import VerificationPolicy, decode_unverified, verify_token

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000
POLICY = TokenPolicy(issuer="https://origin.test", audience="outpost", access_ttl_seconds=900)


def verification_policy(algorithms: frozenset[str]) -> VerificationPolicy:
    return VerificationPolicy(issuer=POLICY.issuer, audience=POLICY.audience, algorithms=algorithms)


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
async def test_a_minted_token_verifies_with_the_keyring_keys(alg: str, tmp_path: Path) -> None:
    key = generate_key(alg, now=NOW)
    save_keyring(Keyring((key,)), tmp_path / "keys.json")
    keys = KeyringSource(tmp_path / "keys.json").verification_keys(NOW)

    token = mint_access_token(
        key, POLICY, subject="usr_1", roles=["customer", "admin"], session_id="s1", now=NOW
    )

    verified = await verify_token(
        token,
        policy=verification_policy(keys.algorithms),
        keys=keys.keys,
        verifier=PyJwtSignatureVerifier(),
        now=NOW + 899,
    )
    assert verified.subject == "usr_1"
    assert verified.roles == {"customer", "admin"}
    assert verified.claims["sid"] == "s1"
    assert verified.expires_at == NOW + 900
    assert verified.header["typ"] == "at+jwt"
    assert verified.key_id == key.kid


def test_a_token_without_a_session_has_no_sid_and_its_own_lifetime() -> None:
    key = generate_key("ES256", now=NOW)

    token = mint_access_token(
        key, POLICY, subject="alice", roles=[], session_id=None, now=NOW, ttl_seconds=60
    )

    claims = decode_unverified(token).claims
    assert "sid" not in claims
    assert claims["exp"] - claims["iat"] == 60
    assert claims["roles"] == []


def test_every_token_has_its_own_id() -> None:
    key = generate_key("ES256", now=NOW)
    tokens = [
        mint_access_token(key, POLICY, subject="a", roles=[], session_id=None, now=NOW)
        for _ in range(3)
    ]

    assert len({decode_unverified(token).claims["jti"] for token in tokens}) == 3


def test_refresh_tokens_are_random_and_stored_only_as_a_digest() -> None:
    first, second = new_refresh_token(), new_refresh_token()

    assert first != second
    assert first.startswith("rt_")
    assert len(first) >= 40
    digest = refresh_token_digest(first)
    assert len(digest) == 64
    assert first not in digest
    assert refresh_token_digest(first) == digest
