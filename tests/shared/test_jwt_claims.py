"""Claim checks with the time passed in: leeway boundaries, audience forms, types, roles."""

from __future__ import annotations

from typing import Any

import pytest

from shared.jwt import (
    TokenErrorReason,
    TokenInvalid,
    check_claims,
    principal_from_claims,
    roles_from_claims,
)
from shared.principal import Principal
from tests.shared.jwt_issuer import AUDIENCE, ISSUER, NOW, claims, policy

LEEWAY = 30
POLICY = policy(leeway_seconds=LEEWAY)


def refusal(payload: dict[str, Any], now: float = NOW) -> TokenErrorReason:
    with pytest.raises(TokenInvalid) as refused:
        check_claims(payload, POLICY, now)
    return refused.value.reason


def test_valid_claims_give_subject_roles_issuer_and_expiry() -> None:
    result = check_claims(claims(roles=["admin", "customer"]), POLICY, NOW)
    assert result.subject == "alice"
    assert result.roles == {"admin", "customer"}
    assert result.issuer == ISSUER
    assert result.expires_at == NOW + 900


def test_expiry_is_accepted_up_to_the_leeway_and_refused_at_it() -> None:
    exp = NOW - LEEWAY
    check_claims(claims(exp=exp + 1), POLICY, NOW)
    check_claims(claims(exp=exp + 0.001), POLICY, NOW)
    assert refusal(claims(exp=exp)) is TokenErrorReason.EXPIRED


def test_without_leeway_a_token_expires_at_its_exp_exactly() -> None:
    strict = policy(leeway_seconds=0)
    check_claims(claims(exp=NOW + 1), strict, NOW)
    with pytest.raises(TokenInvalid) as refused:
        check_claims(claims(exp=NOW), strict, NOW)
    assert refused.value.reason is TokenErrorReason.EXPIRED


def test_not_before_is_accepted_up_to_the_leeway_ahead() -> None:
    check_claims(claims(nbf=NOW + LEEWAY), POLICY, NOW)
    assert refusal(claims(nbf=NOW + LEEWAY + 1)) is TokenErrorReason.NOT_YET_VALID


def test_issued_at_may_be_ahead_by_the_leeway_only() -> None:
    check_claims(claims(iat=NOW + LEEWAY), POLICY, NOW)
    assert refusal(claims(iat=NOW + LEEWAY + 1)) is TokenErrorReason.ISSUED_IN_FUTURE


def test_expiry_is_required_but_nbf_and_iat_are_optional() -> None:
    check_claims(claims(nbf=None, iat=None), POLICY, NOW)
    assert refusal(claims(exp=None)) is TokenErrorReason.MISSING_EXPIRY


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", [True, False, "1760000000", None, [NOW], -1, 10**12])
def test_dates_must_be_plain_numbers_in_range(name: str, value: Any) -> None:
    payload = {**claims(), name: value}
    assert refusal(payload) is TokenErrorReason.INVALID_CLAIM


@pytest.mark.parametrize("issuer", [None, ISSUER + "/", ISSUER.upper(), [ISSUER], ""])
def test_the_issuer_must_match_exactly(issuer: Any) -> None:
    payload = {**claims(), "iss": issuer}
    assert refusal(payload) is TokenErrorReason.WRONG_ISSUER


@pytest.mark.parametrize("audience", [AUDIENCE, [AUDIENCE], ["other", AUDIENCE]])
def test_the_audience_may_be_a_string_or_a_list_naming_us(audience: Any) -> None:
    check_claims(claims(aud=audience), POLICY, NOW)


@pytest.mark.parametrize(
    ("audience", "reason"),
    [
        ("other", TokenErrorReason.WRONG_AUDIENCE),
        (["other"], TokenErrorReason.WRONG_AUDIENCE),
        ([], TokenErrorReason.WRONG_AUDIENCE),
        (AUDIENCE.upper(), TokenErrorReason.WRONG_AUDIENCE),
        ([AUDIENCE, None], TokenErrorReason.INVALID_CLAIM),
        (7, TokenErrorReason.INVALID_CLAIM),
        ({"aud": AUDIENCE}, TokenErrorReason.INVALID_CLAIM),
    ],
)
def test_other_audiences_are_refused(audience: Any, reason: TokenErrorReason) -> None:
    assert refusal({**claims(), "aud": audience}) is reason


def test_a_missing_audience_is_refused() -> None:
    assert refusal(claims(aud=None)) is TokenErrorReason.WRONG_AUDIENCE


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        (None, TokenErrorReason.MISSING_SUBJECT),
        ("", TokenErrorReason.MISSING_SUBJECT),
        (42, TokenErrorReason.INVALID_CLAIM),
        (["alice"], TokenErrorReason.INVALID_CLAIM),
        ("a" * 256, TokenErrorReason.INVALID_CLAIM),
    ],
)
def test_the_subject_must_be_a_non_empty_short_string(
    subject: Any, reason: TokenErrorReason
) -> None:
    assert refusal({**claims(), "sub": subject}) is reason


def test_checks_run_in_the_documented_order() -> None:
    everything_wrong = {"exp": NOW - 3600, "iss": "x", "aud": "y"}
    assert refusal(everything_wrong) is TokenErrorReason.EXPIRED
    assert refusal({**everything_wrong, "exp": NOW + 60}) is TokenErrorReason.WRONG_ISSUER


def test_absent_roles_mean_no_roles() -> None:
    assert roles_from_claims({"sub": "alice"}) == frozenset()


@pytest.mark.parametrize("roles", ["admin", ["admin", 1], [""], ["r" * 65], ["r"] * 65, None])
def test_roles_must_be_a_short_list_of_short_strings(roles: Any) -> None:
    with pytest.raises(TokenInvalid) as refused:
        roles_from_claims({"roles": roles})
    assert refused.value.reason is TokenErrorReason.INVALID_CLAIM


def test_the_session_is_the_sid_claim_and_absent_means_none() -> None:
    assert check_claims(claims(sid="s-42"), POLICY, NOW).session_id == "s-42"
    assert check_claims(claims(), POLICY, NOW).session_id is None


@pytest.mark.parametrize("sid", ["", 42, ["s"], "a b", "nul\x00", "é", "s" * 129])
def test_an_ill_formed_session_refuses_the_token_rather_than_escaping_revocation(
    sid: Any,
) -> None:
    assert refusal(claims(sid=sid)) is TokenErrorReason.INVALID_CLAIM


def test_claims_make_a_principal_with_the_country_given() -> None:
    principal = principal_from_claims({"sub": "bob", "roles": ["admin"]}, country="DE")
    assert principal == Principal(subject="bob", roles=frozenset({"admin"}), country="DE")
    assert principal.has_role("admin")
