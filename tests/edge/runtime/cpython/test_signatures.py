"""The CPython edge's signature port (``cryptography``) under the shared JWT core: the hostile
token corpus is refused for exactly the reason each token was made for, and every algorithm the
core supports verifies tokens minted by an independent implementation (PyJWT)."""

from __future__ import annotations

import pytest

from edge.runtime.cpython.signatures import CryptographySignatureVerifier
from shared.jwt import Jwk, TokenInvalid, UnusableKey, verify_token
from tests.data.tokens import HostileToken, ValidToken, load_corpus
from tests.shared import jwt_issuer

pytestmark = pytest.mark.anyio
CORPUS = load_corpus()
VERIFIER = CryptographySignatureVerifier()


@pytest.mark.parametrize("hostile", CORPUS.hostile, ids=lambda token: token.name)
async def test_each_hostile_token_is_refused_for_its_reason(hostile: HostileToken) -> None:
    with pytest.raises(TokenInvalid) as refused:
        await verify_token(
            hostile.token,
            policy=CORPUS.policy,
            keys=CORPUS.keys,
            verifier=VERIFIER,
            now=CORPUS.now,
        )

    assert refused.value.reason is hostile.reason


@pytest.mark.parametrize("valid", CORPUS.valid, ids=lambda token: token.name)
async def test_each_valid_corpus_token_verifies(valid: ValidToken) -> None:
    verified = await verify_token(
        valid.token, policy=CORPUS.policy, keys=CORPUS.keys, verifier=VERIFIER, now=CORPUS.now
    )

    assert (verified.subject, verified.roles) == (valid.subject, valid.roles)


@pytest.mark.parametrize("alg", jwt_issuer.ALL_ALGORITHMS)
async def test_every_supported_algorithm_verifies_and_rejects_a_changed_token(alg: str) -> None:
    key = jwt_issuer.generate_key(alg)
    token = jwt_issuer.mint(key, jwt_issuer.claims())
    keys = jwt_issuer.key_set(key)
    policy = jwt_issuer.policy()

    verified = await verify_token(
        token, policy=policy, keys=keys, verifier=VERIFIER, now=jwt_issuer.NOW
    )
    head, _, signature = token.split(".")
    tampered = f"{head}.{jwt_issuer.mint(key, jwt_issuer.claims(sub='mallory')).split('.')[1]}"

    assert verified.algorithm == alg
    with pytest.raises(TokenInvalid, match="bad_signature"):
        await verify_token(
            f"{tampered}.{signature}",
            policy=policy,
            keys=keys,
            verifier=VERIFIER,
            now=jwt_issuer.NOW,
        )


async def test_a_key_whose_point_is_not_on_its_curve_is_unusable() -> None:
    off_curve = Jwk(
        kid="broken",
        kty="EC",
        algorithms=frozenset({"ES256"}),
        signature_bytes=64,
        material=(("crv", "P-256"), ("x", "A" * 43), ("y", "A" * 43)),
    )

    with pytest.raises(UnusableKey):
        await VERIFIER.verify("ES256", off_curve, b"input", b"\x00" * 64)
