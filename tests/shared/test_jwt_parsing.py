"""decode_unverified: strict compact-JWS shape, sizes and JSON, before any policy or key."""

from __future__ import annotations

import json

import pytest

from shared.b64 import b64url_encode
from shared.jwt import TokenErrorReason, TokenInvalid, decode_unverified
from shared.jwt.strict_json import MAX_DEPTH, load_object, nesting_exceeds

HEADER = {"alg": "ES256", "kid": "k1"}
CLAIMS = {"sub": "alice", "exp": 1_800_000_000}


def seg(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return b64url_encode(text.encode())


def token(header: object = HEADER, claims: object = CLAIMS, signature: bytes = b"sig") -> str:
    return f"{seg(header)}.{seg(claims)}.{b64url_encode(signature)}"


def reason_for(text: object, **limits: int) -> TokenErrorReason:
    with pytest.raises(TokenInvalid) as refused:
        decode_unverified(text, **limits)  # type: ignore[arg-type]
    return refused.value.reason


def test_a_well_formed_token_splits_into_header_claims_signing_input_and_signature() -> None:
    text = token()
    parsed = decode_unverified(text)
    assert parsed.header == HEADER
    assert parsed.claims == CLAIMS
    assert parsed.signing_input == text.rsplit(".", 1)[0].encode()
    assert parsed.signature == b"sig"


def test_an_empty_signature_parses_so_that_verification_refuses_it() -> None:
    assert decode_unverified(token(signature=b"")).signature == b""


@pytest.mark.parametrize("value", [None, 42, b"a.b.c", ["a", "b", "c"]])
def test_a_token_that_is_not_text_is_malformed(value: object) -> None:
    assert reason_for(value) is TokenErrorReason.MALFORMED


def test_the_whole_token_size_limit_is_inclusive() -> None:
    base = token(claims={**CLAIMS, "pad": ""})
    at_limit = token(claims={**CLAIMS, "pad": "x" * 3000})
    assert len(base) < len(at_limit)
    decode_unverified(at_limit, max_token_bytes=len(at_limit))
    assert reason_for(at_limit, max_token_bytes=len(at_limit) - 1) is TokenErrorReason.TOO_LARGE


def test_the_header_size_limit_applies_to_the_encoded_header() -> None:
    text = token(header={**HEADER, "pad": "x" * 100})
    header_length = len(text.split(".")[0])
    decode_unverified(text, max_header_bytes=header_length)
    refused = reason_for(text, max_header_bytes=header_length - 1)
    assert refused is TokenErrorReason.HEADER_TOO_LARGE


def test_five_parts_are_named_as_an_encrypted_token() -> None:
    assert reason_for("a.b.c.d.e") is TokenErrorReason.ENCRYPTED


@pytest.mark.parametrize("text", ["a", "a.b", "a.b.c.d", ".b.c", "a..c", "..", "a.b.c.d.e.f"])
def test_other_part_counts_or_empty_parts_are_malformed(text: str) -> None:
    assert reason_for(text) is TokenErrorReason.MALFORMED


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "=",
        lambda t: t.replace(".", "=.", 1),
        lambda t: " " + t,
        lambda t: t.replace(t[5], "+", 1),
        lambda t: t[:10] + "é" + t[11:],
    ],
    ids=["padding", "padded_header", "leading_space", "plus_sign", "non_ascii"],
)
def test_characters_outside_unpadded_base64url_are_bad_encoding(mangle: object) -> None:
    assert reason_for(mangle(token())) is TokenErrorReason.BAD_ENCODING  # type: ignore[operator]


def test_a_non_canonical_spelling_of_the_same_signature_is_refused() -> None:
    text = token(signature=b"\x00\x00")  # "AAA": two spare bits in the last character
    assert text.endswith(".AAA")
    assert reason_for(text[:-1] + "B") is TokenErrorReason.BAD_ENCODING


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ("not json", CLAIMS),
        (HEADER, "[1, 2]"),
        (HEADER, '"a string"'),
        (HEADER, "null"),
        (HEADER, '{"exp": NaN}'),
        (HEADER, '{"exp": -Infinity}'),
        (HEADER, '{"exp": 1e999}'),
        (HEADER, '{"exp": ' + "1" * 65 + "}"),
        (HEADER, '{"sub": "alice"'),
    ],
)
def test_headers_and_payloads_must_be_plain_json_objects(header: object, claims: object) -> None:
    assert reason_for(token(header, claims)) is TokenErrorReason.BAD_JSON


def test_json_in_another_unicode_encoding_is_refused() -> None:
    utf16 = b64url_encode(json.dumps(HEADER).encode("utf-16"))
    text = f"{utf16}.{seg(CLAIMS)}.{b64url_encode(b'sig')}"
    assert reason_for(text) is TokenErrorReason.BAD_JSON


@pytest.mark.parametrize("raw", ['{"sub": "a", "sub": "b"}', '{"sub": "a", "x": {"y": 1, "y": 2}}'])
def test_repeated_members_anywhere_are_refused(raw: str) -> None:
    assert reason_for(token(HEADER, raw)) is TokenErrorReason.DUPLICATE_KEY


def test_nesting_is_limited_but_brackets_inside_strings_do_not_count() -> None:
    deepest_allowed = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    parsed = load_object(f'{{"x": {deepest_allowed}}}'.encode(), "payload")
    assert parsed["x"] == json.loads(deepest_allowed)
    with pytest.raises(TokenInvalid) as refused:
        load_object(f'{{"x": [{deepest_allowed}]}}'.encode(), "payload")
    assert refused.value.reason is TokenErrorReason.BAD_JSON
    assert not nesting_exceeds('{"x": "' + "[" * 100 + '\\"' + "{" * 100 + '"}', MAX_DEPTH)


def test_a_nesting_bomb_is_refused_without_recursion_errors() -> None:
    bomb = "[" * 3000 + "]" * 3000
    assert reason_for(token(HEADER, bomb), max_token_bytes=10_000) is TokenErrorReason.BAD_JSON


def test_large_integers_within_the_number_length_limit_parse_exactly() -> None:
    parsed = decode_unverified(token(claims={"exp": 10**30}))
    assert parsed.claims["exp"] == 10**30
