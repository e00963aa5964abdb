"""The uniform 401 answer: WWW-Authenticate and the JSON body never carry details."""

from __future__ import annotations

import pytest

from shared.jwt import SAFE_DESCRIPTIONS, invalid_token_body, www_authenticate_header


def test_the_default_challenge_names_invalid_token_with_the_fixed_text() -> None:
    assert www_authenticate_header() == (
        'Bearer error="invalid_token", '
        'error_description="The access token is invalid or has expired"'
    )


def test_a_request_without_credentials_gets_a_challenge_without_an_error_code() -> None:
    assert www_authenticate_header(None) == "Bearer"
    assert www_authenticate_header(None, realm="outpost") == 'Bearer realm="outpost"'


@pytest.mark.parametrize(
    "leaky",
    ["expired: exp=1750000000", 'kid "../../etc/passwd" unknown', "bad_signature", ""],
)
def test_a_description_other_than_the_fixed_texts_is_replaced(leaky: str) -> None:
    assert www_authenticate_header("invalid_token", leaky) == www_authenticate_header()


def test_a_fixed_text_may_be_chosen_explicitly() -> None:
    text = SAFE_DESCRIPTIONS["insufficient_scope"]
    assert www_authenticate_header("insufficient_scope", text).endswith(f'"{text}"')


def test_the_realm_is_reduced_to_quoted_string_characters() -> None:
    assert www_authenticate_header(None, realm='out"po\\st\r\n') == 'Bearer realm="outpost"'


def test_only_rfc_6750_error_codes_are_accepted() -> None:
    with pytest.raises(ValueError, match="RFC 6750"):
        www_authenticate_header("bad_signature")


def test_the_json_body_has_the_project_error_shape_and_the_fixed_text() -> None:
    assert invalid_token_body() == {
        "error": {"code": "invalid_token", "message": SAFE_DESCRIPTIONS["invalid_token"]}
    }
