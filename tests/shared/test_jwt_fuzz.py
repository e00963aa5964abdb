"""Property tests: whatever arrives, verification answers TokenInvalid, never another exception."""

from __future__ import annotations

import hmac
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from origin.identity.signature import PyJwtSignatureVerifier
from shared.b64 import b64url_encode
from shared.jwt import TokenInvalid, verify_token
from tests.data.tokens import CORPUS_PATH, load_corpus

pytestmark = pytest.mark.anyio

CORPUS = load_corpus()
VERIFIER = PyJwtSignatureVerifier()
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
HS256_SECRET = (CORPUS_PATH.parent / "test-only-hs256.secret").read_bytes().strip()
VALID_ES256 = next(item.token for item in CORPUS.valid if item.name == "es256")
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=4,
)
# Headers that get past the policy checks often enough to reach key selection and signatures.
headers = st.fixed_dictionaries(
    {"alg": st.sampled_from(["ES256", "RS256", "EdDSA", "HS256", "none", "PS256"])},
    optional={
        "kid": st.sampled_from([key.kid for key in CORPUS.keys] + ["x"]) | json_values,
        "typ": st.sampled_from(["JWT", "at+jwt", "jose"]) | json_values,
        "crit": json_values,
    },
)
# Realistic values mixed in, so that some random claim sets pass and the acceptance path runs too.
plausible_values = st.sampled_from(
    [
        CORPUS.policy.issuer,
        CORPUS.policy.audience,
        [CORPUS.policy.audience],
        "user-1",
        CORPUS.now + 600,
        CORPUS.now - 600,
        ["admin"],
    ]
)
claim_sets = st.dictionaries(
    st.sampled_from(["iss", "aud", "sub", "exp", "nbf", "iat", "roles", "jti"]),
    plausible_values | json_values,
)


async def assert_refused_cleanly(token: Any) -> None:
    with pytest.raises(TokenInvalid):
        await verify_token(
            token, policy=CORPUS.policy, keys=CORPUS.keys, verifier=VERIFIER, now=CORPUS.now
        )


def encode_json(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


@EXAMPLES
@given(st.binary(max_size=300))
async def test_random_bytes_are_refused_cleanly(data: bytes) -> None:
    await assert_refused_cleanly(data.decode("latin-1"))
    await assert_refused_cleanly(data)


@EXAMPLES
@given(st.text(max_size=300))
async def test_random_text_is_refused_cleanly(text: str) -> None:
    await assert_refused_cleanly(text)


@EXAMPLES
@given(st.lists(st.text(alphabet=B64URL + ".=+/ ", max_size=120), min_size=3, max_size=3))
async def test_random_three_part_strings_are_refused_cleanly(parts: list[str]) -> None:
    await assert_refused_cleanly(".".join(parts))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers, claim_sets, st.binary(max_size=300))
async def test_well_encoded_json_with_random_signatures_is_refused_cleanly(
    header: dict[str, Any], claims: dict[str, Any], signature: bytes
) -> None:
    await assert_refused_cleanly(
        f"{encode_json(header)}.{encode_json(claims)}.{b64url_encode(signature)}"
    )


VALID_CLAIMS: dict[str, Any] = {
    "iss": CORPUS.policy.issuer,
    "aud": CORPUS.policy.audience,
    "sub": "user-1",
    "exp": CORPUS.now + 600,
}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(sorted(VALID_CLAIMS)), max_size=2), claim_sets)
async def test_validly_signed_claims_with_random_changes_are_accepted_or_refused_cleanly(
    removed: set[str], changed: dict[str, Any]
) -> None:
    claims = {name: value for name, value in VALID_CLAIMS.items() if name not in removed}
    claims.update(changed)
    head = encode_json({"alg": "HS256", "kid": "test-hs256-2025"})
    signing_input = f"{head}.{encode_json(claims)}"
    mac = hmac.digest(HS256_SECRET, signing_input.encode(), "sha256")
    try:
        verified = await verify_token(
            f"{signing_input}.{b64url_encode(mac)}",
            policy=CORPUS.policy,
            keys=CORPUS.keys,
            verifier=VERIFIER,
            now=CORPUS.now,
        )
    except TokenInvalid:
        return
    assert verified.subject == claims["sub"]
    assert verified.expires_at + CORPUS.policy.leeway_seconds > CORPUS.now


@EXAMPLES
@given(st.integers(min_value=0, max_value=len(VALID_ES256) - 1), st.sampled_from(B64URL + "."))
async def test_any_one_character_change_to_a_valid_token_is_refused(
    position: int, replacement: str
) -> None:
    original = VALID_ES256[position]
    changed = VALID_ES256[:position] + replacement + VALID_ES256[position + 1 :]
    if replacement == original:
        await verify_token(
            changed, policy=CORPUS.policy, keys=CORPUS.keys, verifier=VERIFIER, now=CORPUS.now
        )
    else:
        await assert_refused_cleanly(changed)
