"""verify_token end to end: PyJWT-minted tokens through shared.jwt and the CPython port."""

from __future__ import annotations

import json

import pytest

from origin.identity.signature import PyJwtSignatureVerifier
from shared.b64 import b64url_encode
from shared.jwt import (
    KeySet,
    TokenErrorReason,
    TokenInvalid,
    VerificationPolicy,
    decode_unverified,
    parse_jwks,
    verify_parsed,
    verify_token,
)
from shared.principal import Principal
from tests.shared.jwt_issuer import (
    ALL_ALGORITHMS,
    AUDIENCE,
    ISSUER,
    NOW,
    IssuerKey,
    claims,
    generate_key,
    key_set,
    mint,
    policy,
)

pytestmark = pytest.mark.anyio


async def refusal(
    token: str, keys: KeySet, verifier: PyJwtSignatureVerifier, **changes: object
) -> TokenErrorReason:
    with pytest.raises(TokenInvalid) as refused:
        await verify_token(token, policy=policy(**changes), keys=keys, verifier=verifier, now=NOW)
    return refused.value.reason


@pytest.mark.parametrize("alg", ALL_ALGORITHMS)
async def test_a_valid_token_of_each_algorithm_is_accepted(
    alg: str, issuer_keys: dict[str, IssuerKey], verifier: PyJwtSignatureVerifier
) -> None:
    key = issuer_keys[alg]
    token = mint(key, claims(roles=["admin"], sid="s-1"), typ="at+jwt")
    verified = await verify_token(
        token, policy=policy(), keys=key_set(*issuer_keys.values()), verifier=verifier, now=NOW
    )
    assert (verified.subject, verified.issuer) == ("alice", ISSUER)
    assert verified.roles == frozenset({"admin"})
    assert (verified.algorithm, verified.key_id) == (alg, key.kid)
    assert verified.expires_at == NOW + 900
    assert verified.token_id == "token-1"
    assert verified.claims["sid"] == "s-1"
    assert verified.principal("FR") == Principal("alice", frozenset({"admin"}), "FR")


@pytest.mark.parametrize("alg", ALL_ALGORITHMS)
async def test_a_token_with_a_changed_claim_is_refused_for_its_signature(
    alg: str, issuer_keys: dict[str, IssuerKey], verifier: PyJwtSignatureVerifier
) -> None:
    token = mint(issuer_keys[alg], claims())
    head, _, signature = token.split(".")
    forged_payload = b64url_encode(json.dumps(claims(sub="mallory")).encode())
    forged = f"{head}.{forged_payload}.{signature}"
    assert (
        await refusal(forged, key_set(issuer_keys[alg]), verifier) is TokenErrorReason.BAD_SIGNATURE
    )


async def test_an_algorithm_outside_the_policy_is_refused_even_with_a_matching_key(
    issuer_keys: dict[str, IssuerKey], verifier: PyJwtSignatureVerifier
) -> None:
    token = mint(issuer_keys["HS256"], claims())
    reason = await refusal(
        token, key_set(issuer_keys["HS256"]), verifier, algorithms=frozenset({"ES256"})
    )
    assert reason is TokenErrorReason.ALG_NOT_ALLOWED


async def test_during_a_rotation_both_keys_verify_and_a_removed_key_does_not(
    verifier: PyJwtSignatureVerifier,
) -> None:
    old, new = generate_key("ES256", "2025-01"), generate_key("ES256", "2025-02")
    old_token, new_token = mint(old, claims(sub="old")), mint(new, claims(sub="new"))
    both = key_set(old, new)
    for token, subject in ((old_token, "old"), (new_token, "new")):
        verified = await verify_token(token, policy=policy(), keys=both, verifier=verifier, now=NOW)
        assert verified.subject == subject
    after_grace = key_set(new)
    assert await refusal(old_token, after_grace, verifier) is TokenErrorReason.UNKNOWN_KEY
    verified = await verify_token(
        new_token, policy=policy(), keys=after_grace, verifier=verifier, now=NOW
    )
    assert verified.key_id == "2025-02"


async def test_a_parsed_token_can_be_routed_by_issuer_then_verified_without_reparsing(
    issuer_keys: dict[str, IssuerKey], verifier: PyJwtSignatureVerifier
) -> None:
    token = mint(issuer_keys["EdDSA"], claims())
    parsed = decode_unverified(token)
    policies = {ISSUER: policy(), "https://elsewhere.test": policy(issuer="https://elsewhere.test")}
    chosen = policies[parsed.claims["iss"]]
    verified = await verify_parsed(
        parsed, policy=chosen, keys=key_set(issuer_keys["EdDSA"]), verifier=verifier, now=NOW
    )
    assert verified.subject == "alice"


async def test_a_key_the_port_cannot_load_is_reported_as_unusable(
    verifier: PyJwtSignatureVerifier, issuer_keys: dict[str, IssuerKey]
) -> None:
    key = issuer_keys["ES256"]
    off_curve = {**key.public_jwk, "y": b64url_encode(b"\x01" * 32)}
    token = mint(key, claims())
    reason = await refusal(token, parse_jwks({"keys": [off_curve]}), verifier)
    assert reason is TokenErrorReason.KEY_UNUSABLE


async def test_the_token_size_limits_come_from_the_policy(
    issuer_keys: dict[str, IssuerKey], verifier: PyJwtSignatureVerifier
) -> None:
    token = mint(issuer_keys["ES256"], claims())
    keys = key_set(issuer_keys["ES256"])
    assert (
        await refusal(token, keys, verifier, max_token_bytes=len(token) - 1)
        is TokenErrorReason.TOO_LARGE
    )
    assert (
        await refusal(token, keys, verifier, max_header_bytes=16)
        is TokenErrorReason.HEADER_TOO_LARGE
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"algorithms": frozenset({"none"})},
        {"algorithms": frozenset({"NONE"})},
        {"algorithms": frozenset({"HS512"})},
        {"algorithms": frozenset()},
        {"issuer": ""},
        {"audience": ""},
        {"leeway_seconds": -1},
        {"leeway_seconds": 3600},
        {"max_token_bytes": 10},
    ],
)
def test_a_policy_refuses_unsafe_or_impossible_settings(changes: dict[str, object]) -> None:
    settings = {"issuer": ISSUER, "audience": AUDIENCE, "algorithms": frozenset({"ES256"})}
    with pytest.raises(ValueError):  # noqa: PT011 - the message names the setting
        VerificationPolicy(**{**settings, **changes})  # type: ignore[arg-type]


def test_a_policy_accepts_algorithms_and_types_from_plain_configuration_lists() -> None:
    configured = VerificationPolicy(
        issuer=ISSUER,
        audience=AUDIENCE,
        algorithms=["ES256", "RS256"],  # type: ignore[arg-type]
        token_types=["JWT"],  # type: ignore[arg-type]
    )
    assert configured.algorithms == frozenset({"ES256", "RS256"})
    assert configured.token_types == frozenset({"jwt"})
