from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.b64 import Base64UrlError, b64url_decode, b64url_encode, is_canonical_b64url


@given(st.binary(max_size=200))
def test_encoding_round_trips_without_padding(data: bytes) -> None:
    encoded = b64url_encode(data)
    assert "=" not in encoded
    assert is_canonical_b64url(encoded)
    assert b64url_decode(encoded) == data


def test_encoding_uses_the_url_safe_alphabet() -> None:
    assert b64url_encode(b"\xfb\xff") == "-_8"


@pytest.mark.parametrize(
    "text",
    [
        "QQ==",  # padding
        "QQ=",
        "+/8",  # standard alphabet
        "QU JD",  # whitespace
        "QUJD\n",
        "QUJDR",  # 4n+1 characters encode no byte string
        "QR",  # same bytes as "QQ", with a padding bit set
    ],
)
def test_decoding_refuses_anything_but_canonical_unpadded_base64url(text: str) -> None:
    with pytest.raises(Base64UrlError):
        b64url_decode(text)


@given(st.binary(min_size=1, max_size=40))
def test_every_byte_string_has_exactly_one_accepted_spelling(data: bytes) -> None:
    canonical = b64url_encode(data)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(canonical[-1])
    spellings = [canonical[:-1] + alphabet[(last & ~3) | low] for low in range(4)]
    decodings = {
        spelling
        for spelling in spellings
        if base64.urlsafe_b64decode(spelling + "=" * (-len(spelling) % 4)) == data
    }
    accepted = [spelling for spelling in decodings if is_canonical_b64url(spelling)]
    assert accepted == [canonical]
