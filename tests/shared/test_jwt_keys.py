"""JWK parsing and key selection by kid and alg together."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.b64 import b64url_encode
from shared.jwt import JwksInvalid, TokenErrorReason, TokenInvalid, parse_jwk, parse_jwks
from tests.shared.jwt_issuer import IssuerKey, generate_key


def jwk_of(key: IssuerKey, **changes: Any) -> dict[str, Any]:
    merged = {**key.public_jwk, **changes}
    return {name: value for name, value in merged.items() if value is not None}


def test_each_key_type_verifies_exactly_its_algorithm(issuer_keys: dict[str, IssuerKey]) -> None:
    keys = parse_jwks({"keys": [k.public_jwk for k in issuer_keys.values()]}, allow_symmetric=True)
    assert keys.skipped == ()
    by_kid = {key.kid: key for key in keys}
    assert {kid: key.algorithms for kid, key in by_kid.items()} == {
        key.kid: frozenset({alg}) for alg, key in issuer_keys.items()
    }
    assert by_kid["test-es256"].signature_bytes == 64
    assert by_kid["test-es384"].signature_bytes == 96
    assert by_kid["test-rs256"].signature_bytes == 256
    assert by_kid["test-eddsa"].signature_bytes == 64
    assert by_kid["test-hs256"].signature_bytes == 32


def test_an_rsa_key_without_alg_serves_both_rsa_algorithms(
    issuer_keys: dict[str, IssuerKey],
) -> None:
    key = parse_jwk(jwk_of(issuer_keys["RS256"], alg=None))
    assert key.algorithms == {"RS256", "PS256"}


def test_jwks_text_and_bytes_parse_like_the_document(issuer_keys: dict[str, IssuerKey]) -> None:
    document = {"keys": [issuer_keys["ES256"].public_jwk]}
    assert parse_jwks(json.dumps(document)).keys == parse_jwks(document).keys
    assert parse_jwks(json.dumps(document).encode()).keys == parse_jwks(document).keys


def test_private_members_never_reach_the_key(issuer_keys: dict[str, IssuerKey]) -> None:
    key = parse_jwk(jwk_of(issuer_keys["ES256"], d="c2VjcmV0"))
    assert "d" not in key.to_dict()
    assert set(key.to_dict()) == {"kty", "kid", "crv", "x", "y"}


def test_equal_jwks_make_equal_hashable_keys(issuer_keys: dict[str, IssuerKey]) -> None:
    first = parse_jwk(dict(issuer_keys["RS256"].public_jwk))
    second = parse_jwk(json.loads(json.dumps(issuer_keys["RS256"].public_jwk)))
    assert first == second
    assert len({first, second}) == 1


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"use": "enc"}, "not for signatures"),
        ({"key_ops": ["encrypt"]}, "key_ops"),
        ({"key_ops": "verify"}, "key_ops"),
        ({"alg": "RS256"}, "alg does not fit"),
        ({"alg": "none"}, "alg does not fit"),
        ({"crv": "P-521"}, "unsupported curve"),
        ({"crv": ["P-256"]}, "unsupported curve"),
        ({"kty": "XYZ"}, "unsupported kty"),
        ({"kid": None}, "no usable kid"),
        ({"kid": ""}, "no usable kid"),
        ({"x": None}, "lacks x"),
        ({"x": "not base64!"}, "not base64url"),
        ({"x": b64url_encode(b"\x01" * 31)}, "wrong length"),
    ],
)
def test_unusable_keys_are_skipped_with_the_reason(
    issuer_keys: dict[str, IssuerKey], changes: dict[str, Any], why: str
) -> None:
    good = issuer_keys["EdDSA"].public_jwk
    bad = jwk_of(issuer_keys["ES256"], **changes)
    keys = parse_jwks({"keys": [bad, good]})
    assert [key.kid for key in keys] == [good["kid"]]
    assert len(keys.skipped) == 1
    assert why in keys.skipped[0].why


def test_symmetric_keys_are_refused_unless_explicitly_allowed(
    issuer_keys: dict[str, IssuerKey],
) -> None:
    document = {"keys": [issuer_keys["HS256"].public_jwk]}
    assert len(parse_jwks(document)) == 0
    assert "symmetric" in parse_jwks(document).skipped[0].why
    assert len(parse_jwks(document, allow_symmetric=True)) == 1


def test_short_hmac_secrets_and_small_rsa_keys_are_refused(
    issuer_keys: dict[str, IssuerKey],
) -> None:
    short_secret = {"kty": "oct", "kid": "h", "k": b64url_encode(b"x" * 31)}
    small_rsa = jwk_of(issuer_keys["RS256"], n=b64url_encode(b"\xc1" + b"\x01" * 127))
    keys = parse_jwks({"keys": [short_secret, small_rsa]}, allow_symmetric=True)
    assert len(keys) == 0
    assert "32 bytes" in keys.skipped[0].why
    assert "2048 bits" in keys.skipped[1].why


def test_a_second_key_for_the_same_kid_and_alg_is_skipped() -> None:
    first, second = generate_key("ES256", "same"), generate_key("ES256", "same")
    keys = parse_jwks({"keys": [first.public_jwk, second.public_jwk]})
    assert [key.member("x") for key in keys] == [first.public_jwk["x"]]
    assert "already" in keys.skipped[0].why


@pytest.mark.parametrize("document", ["not json", "[]", '{"keys": {}}', {"no": "keys"}, 42])
def test_a_document_that_is_no_jwks_is_refused_as_a_whole(document: Any) -> None:
    with pytest.raises(JwksInvalid):
        parse_jwks(document)


def test_selection_needs_both_kid_and_alg_to_match(issuer_keys: dict[str, IssuerKey]) -> None:
    keys = parse_jwks({"keys": [issuer_keys["RS256"].public_jwk]})
    assert keys.select("test-rs256", "RS256").kid == "test-rs256"
    with pytest.raises(TokenInvalid) as wrong_alg:
        keys.select("test-rs256", "HS256")
    assert wrong_alg.value.reason is TokenErrorReason.KEY_ALG_MISMATCH
    with pytest.raises(TokenInvalid) as wrong_kid:
        keys.select("test-rs256 ", "RS256")
    assert wrong_kid.value.reason is TokenErrorReason.UNKNOWN_KEY
