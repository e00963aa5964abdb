"""The CPython signature port: PyJWT-minted tokens verify through shared.jwt and this verifier."""

from __future__ import annotations

import pytest

from origin.identity.signature import PyJwtSignatureVerifier
from shared.b64 import b64url_decode, b64url_encode
from shared.jwt import Jwk, UnusableKey, parse_jwk, verify_token
from tests.shared.jwt_issuer import (
    ALL_ALGORITHMS,
    NOW,
    IssuerKey,
    claims,
    generate_key,
    key_set,
    mint,
    policy,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def keys() -> dict[str, IssuerKey]:
    return {alg: generate_key(alg) for alg in ALL_ALGORITHMS}


def split(token: str) -> tuple[bytes, bytes]:
    signing_input, _, signature = token.rpartition(".")
    return signing_input.encode(), b64url_decode(signature)


@pytest.mark.parametrize("alg", ALL_ALGORITHMS)
async def test_pyjwt_tokens_of_every_algorithm_verify_through_the_core(
    alg: str, keys: dict[str, IssuerKey]
) -> None:
    verifier = PyJwtSignatureVerifier()
    token = mint(keys[alg], claims(sub=f"user-{alg}"))
    verified = await verify_token(
        token, policy=policy(), keys=key_set(*keys.values()), verifier=verifier, now=NOW
    )
    assert verified.subject == f"user-{alg}"
    assert verified.algorithm == alg


@pytest.mark.parametrize("alg", ALL_ALGORITHMS)
async def test_the_port_answers_false_for_a_signature_that_does_not_match(
    alg: str, keys: dict[str, IssuerKey]
) -> None:
    verifier = PyJwtSignatureVerifier()
    key = parse_jwk(keys[alg].public_jwk, allow_symmetric=True)
    signing_input, signature = split(mint(keys[alg], claims()))
    assert await verifier.verify(alg, key, signing_input, signature) is True
    flipped = signature[:-1] + bytes([signature[-1] ^ 0x01])
    assert await verifier.verify(alg, key, signing_input, flipped) is False
    assert await verifier.verify(alg, key, signing_input + b"x", signature) is False


async def test_a_signature_by_another_key_of_the_same_type_does_not_verify(
    keys: dict[str, IssuerKey],
) -> None:
    verifier = PyJwtSignatureVerifier()
    stranger = generate_key("ES256", kid=keys["ES256"].kid)
    signing_input, signature = split(mint(stranger, claims()))
    key = parse_jwk(keys["ES256"].public_jwk)
    assert await verifier.verify("ES256", key, signing_input, signature) is False


async def test_converted_keys_are_cached_per_jwk_value(keys: dict[str, IssuerKey]) -> None:
    verifier = PyJwtSignatureVerifier()
    signing_input, signature = split(mint(keys["RS256"], claims()))
    for _ in range(3):
        # A fresh Jwk each time, as after re-reading an unchanged JWKS: still one cache entry.
        key = parse_jwk(dict(keys["RS256"].public_jwk))
        assert await verifier.verify("RS256", key, signing_input, signature)
    assert verifier.cached_key_count == 1


async def test_the_key_cache_is_bounded() -> None:
    verifier = PyJwtSignatureVerifier(max_cached_keys=2)
    for number in range(4):
        key = generate_key("EdDSA", kid=f"k{number}")
        signing_input, signature = split(mint(key, claims()))
        assert await verifier.verify("EdDSA", parse_jwk(key.public_jwk), signing_input, signature)
        assert verifier.cached_key_count <= 2
    assert verifier.cached_key_count == 2


async def test_a_key_cryptography_refuses_raises_unusable_key(keys: dict[str, IssuerKey]) -> None:
    verifier = PyJwtSignatureVerifier()
    off_curve = parse_jwk({**keys["ES256"].public_jwk, "x": b64url_encode(b"\x02" * 32)})
    with pytest.raises(UnusableKey):
        await verifier.verify("ES256", off_curve, b"input", bytes(64))


async def test_an_algorithm_the_port_does_not_implement_raises_unusable_key() -> None:
    verifier = PyJwtSignatureVerifier()
    key = Jwk("k", "oct", frozenset({"HS512"}), 64, (("k", b64url_encode(b"s" * 64)),))
    with pytest.raises(UnusableKey):
        await verifier.verify("HS512", key, b"input", bytes(64))
