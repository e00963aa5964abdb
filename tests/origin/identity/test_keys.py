"""The keyring: one current key signs, rotation keeps old keys verifying for a grace period."""

from __future__ import annotations

import json

import pytest

from origin.identity.keys import (
    SUPPORTED_ALGORITHMS,
    Keyring,
    KeyringError,
    SigningKey,
    generate_key,
)
from shared.jwt import parse_jwks

NOW = 1_800_000_000
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
def test_a_generated_key_survives_the_json_round_trip(alg: str) -> None:
    keyring = Keyring((generate_key(alg, now=NOW),))

    reread = Keyring.from_json(keyring.to_json())

    assert reread.signing_key().kid == keyring.signing_key().kid
    assert reread.signing_key().alg == alg
    assert reread.signing_key().jwk == keyring.signing_key().jwk


def test_rotation_makes_the_new_key_current_and_keeps_the_old_one_for_the_grace() -> None:
    old = generate_key("ES256", now=NOW)
    new = generate_key("ES256", now=NOW + 100)

    rotated = Keyring((old,)).rotate(new, now=NOW + 100, grace_seconds=900)

    assert rotated.signing_key() == new
    published = {key["kid"] for key in rotated.jwks(NOW + 999)["keys"]}
    assert published == {old.kid, new.kid}
    assert {key["kid"] for key in rotated.jwks(NOW + 1000)["keys"]} == {new.kid}
    assert rotated.next_retirement(NOW + 100) == NOW + 1000


def test_a_second_rotation_drops_keys_whose_grace_has_ended() -> None:
    first, second, third = (generate_key("ES256", now=NOW + i) for i in range(3))
    keyring = Keyring((first,)).rotate(second, now=NOW, grace_seconds=10)

    keyring = keyring.rotate(third, now=NOW + 20, grace_seconds=10)

    assert [key.kid for key in keyring.keys] == [second.kid, third.kid]
    assert keyring.keys[0].retire_at == NOW + 30


def test_a_key_already_retiring_keeps_its_own_end_when_rotated_again() -> None:
    first, second, third = (generate_key("ES256", now=NOW + i) for i in range(3))
    keyring = Keyring((first,)).rotate(second, now=NOW, grace_seconds=100)

    keyring = keyring.rotate(third, now=NOW + 10, grace_seconds=500)

    retire_at = {key.kid: key.retire_at for key in keyring.keys}
    assert retire_at == {first.kid: NOW + 100, second.kid: NOW + 510, third.kid: None}


def test_rotation_with_no_grace_drops_the_old_key_at_once() -> None:
    old, new = generate_key("ES256", now=NOW), generate_key("ES256", now=NOW + 1)

    rotated = Keyring((old,)).rotate(new, now=NOW + 1, grace_seconds=0)

    assert [key.kid for key in rotated.keys] == [new.kid]


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_the_jwks_publishes_public_members_with_kid_alg_and_use_only(alg: str) -> None:
    key = generate_key(alg, now=NOW)

    (published,) = Keyring((key,)).jwks(NOW)["keys"]

    assert published["kid"] == key.kid
    assert published["alg"] == alg
    assert published["use"] == "sig"
    assert not PRIVATE_MEMBERS & published.keys()
    assert len(parse_jwks({"keys": [published]})) == 1  # and the shared core accepts it


def test_an_hs256_secret_is_never_published() -> None:
    secret_key = generate_key("HS256", now=NOW)
    public_key = generate_key("ES256", now=NOW + 1)
    keyring = Keyring((secret_key, public_key))

    document = json.dumps(keyring.jwks(NOW))

    assert secret_key.jwk["k"] not in document
    assert secret_key.kid not in document
    with pytest.raises(KeyringError, match="never be published"):
        secret_key.public_jwk()


def test_the_verification_jwk_of_an_hs256_key_is_its_secret_for_the_origin_alone() -> None:
    key = generate_key("HS256", now=NOW)

    keys = parse_jwks({"keys": [key.verification_jwk()]}, allow_symmetric=True)

    assert [jwk.kid for jwk in keys] == [key.kid]


def test_a_keyring_without_a_current_key_cannot_sign() -> None:
    retired = SigningKey("old", "ES256", generate_key("ES256", now=NOW).jwk, NOW, retire_at=NOW)

    with pytest.raises(KeyringError, match="no current key"):
        Keyring((retired,)).signing_key()


def document_with(**changes: object) -> str:
    item = generate_key("ES256", now=NOW).to_dict()
    item.update(changes)
    return json.dumps({"keys": [item]})


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("not json", "not valid"),
        ('{"keys": []}', "holds no key"),
        ('{"nokeys": 1}', "not valid"),
        (document_with(alg="none"), "not supported"),
        (document_with(alg="RS256"), "does not fit RS256"),
        (document_with(kid=""), "kid"),
        (document_with(jwk={"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}), "no private part"),
        (document_with(created_at="yesterday"), "not valid"),
    ],
)
def test_a_broken_keyring_is_refused_with_its_reason(text: str, complaint: str) -> None:
    with pytest.raises(KeyringError, match=complaint):
        Keyring.from_json(text)


def test_two_keys_with_one_kid_are_refused() -> None:
    key = generate_key("ES256", now=NOW)

    with pytest.raises(KeyringError, match="same kid"):
        Keyring((key, key))
