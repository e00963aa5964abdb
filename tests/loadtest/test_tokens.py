"""Load-test tokens: taken from the environment, spread over users, and a tampered copy that
no key verifies."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from loadtest.tokens import pick_token, tampered, tokens_from_env


def test_tokens_come_comma_separated_from_loadtest_tokens() -> None:
    assert tokens_from_env({"LOADTEST_TOKENS": "a.b.c, d.e.f,"}) == ("a.b.c", "d.e.f")
    assert tokens_from_env({}) == ()


def test_users_are_spread_round_robin_over_the_tokens() -> None:
    given = ("one", "two", "three")
    assert [pick_token(given, number) for number in range(1, 5)] == ["two", "three", "one", "two"]


@pytest.mark.parametrize("seed", range(5))
def test_a_tampered_token_keeps_its_claims_but_fails_signature_verification(seed: int) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode({"sub": f"user-{seed}"}, key, algorithm="ES256")
    assert jwt.decode(token, key.public_key(), algorithms=["ES256"])["sub"] == f"user-{seed}"

    bad = tampered(token)

    assert bad != token
    assert bad.split(".")[:2] == token.split(".")[:2]
    assert jwt.decode(bad, options={"verify_signature": False})["sub"] == f"user-{seed}"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(bad, key.public_key(), algorithms=["ES256"])
