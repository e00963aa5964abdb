"""Shared-cache decisions (RFC 9111): what may be stored, for how long, how old it is, when it
may be served stale, and the cache key."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.http_cache import (
    MAX_ENTITY_TAGS,
    MAX_TAGS,
    Freshness,
    QueryTooComplex,
    cache_key,
    current_age,
    freshened_headers,
    freshness_lifetime,
    if_none_match_matches,
    may_store,
    normalise_query,
    parse_cache_control,
    parse_tags,
    response_policy,
    variant_fingerprint,
    vary_names,
)

DEMO_CONTROL = "public, max-age=0, s-maxage=60, stale-while-revalidate=30, stale-if-error=600"
DATE = "Sun, 06 Nov 1994 08:49:37 GMT"
DATE_SECONDS = 784111777.0


def headers(**fields: str | Sequence[str]) -> dict[str, list[str]]:
    return {
        name.replace("_", "-"): [value] if isinstance(value, str) else list(value)
        for name, value in fields.items()
    }


def storable(method: str = "GET", status: int = 200, auth: bool = False, **fields: str) -> str:
    decision = may_store(
        method=method,
        status=status,
        request_has_authorization=auth,
        response_headers=headers(**fields),
    )
    return decision.reason


def test_cache_control_directives_are_parsed_with_quoted_values_and_empty_elements() -> None:
    control = parse_cache_control([", public,, max-age=5", 'private="set-cookie, x"'])

    assert dict(control.directives) == {
        "public": None,
        "max-age": "5",
        "private": "set-cookie, x",
    }
    assert control.seconds("max-age") == 5.0
    assert control.seconds("s-maxage") is None


@pytest.mark.parametrize(
    "value", ["max-age=abc", "max-age=", "max-age=-1", 'max-age="5"x', "max-age=5, max-age=6"]
)
def test_a_malformed_or_conflicting_lifetime_means_stale_at_once(value: str) -> None:
    assert parse_cache_control(value).seconds("max-age") == 0.0


def test_huge_lifetimes_are_capped() -> None:
    assert parse_cache_control("max-age=99999999999999999999").seconds("max-age") == 2**31


def test_the_origin_catalog_response_is_storable() -> None:
    assert storable(cache_control=DEMO_CONTROL) == "storable"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ({"method": "POST", "cache_control": "public, max-age=60"}, "method"),
        ({"status": 206, "cache_control": "public, max-age=60"}, "status"),
        ({"status": 500, "cache_control": "public, max-age=60"}, "status"),
        ({"cache_control": "public, no-store, max-age=60"}, "no-store"),
        ({"cache_control": "private, max-age=60"}, "private"),
        ({"cache_control": 'private="x-user", max-age=60'}, "private"),
        ({"cache_control": "public, max-age=60", "set_cookie": "a=b"}, "set-cookie"),
        ({"cache_control": "public, max-age=60", "vary": "Accept, *"}, "vary-star"),
        ({"cache_control": "public, max-age=60", "vary": "a,b,c,d,e,f,g,h,i"}, "vary-too-wide"),
        ({}, "no-explicit-freshness"),
        ({"cache_control": "public"}, "no-explicit-freshness"),
    ],
)
def test_what_a_shared_cache_must_not_store(case: dict[str, object], reason: str) -> None:
    assert storable(**case) == reason  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("control", "reason"),
    [
        ("max-age=60", "authorization"),
        ("public, max-age=60", "storable"),
        ("s-maxage=60", "storable"),
        ("must-revalidate, max-age=60", "storable"),
    ],
)
def test_responses_to_authorized_requests_need_explicit_permission(
    control: str, reason: str
) -> None:
    assert storable(auth=True, cache_control=control) == reason


def test_expires_or_no_cache_count_as_explicit_freshness() -> None:
    assert storable(expires=DATE, date=DATE) == "storable"
    assert storable(cache_control="no-cache") == "storable"


def test_s_maxage_wins_over_max_age_which_wins_over_expires() -> None:
    fields = headers(expires="Sun, 06 Nov 1994 08:59:37 GMT", date=DATE)

    assert freshness_lifetime(parse_cache_control("s-maxage=60, max-age=5"), fields) == 60
    assert freshness_lifetime(parse_cache_control("max-age=5"), fields) == 5
    assert freshness_lifetime(parse_cache_control(""), fields) == 600


@pytest.mark.parametrize(
    "fields",
    [
        headers(expires="0", date=DATE),
        headers(expires="Sun, 06 Nov 1994 08:59:37 GMT"),
        headers(
            expires=["Sun, 06 Nov 1994 08:59:37 GMT", "Sun, 06 Nov 1994 09:59:37 GMT"], date=DATE
        ),
    ],
    ids=["invalid-expires", "no-date", "two-expires"],
)
def test_doubtful_expires_means_already_expired(fields: dict[str, list[str]]) -> None:
    assert freshness_lifetime(parse_cache_control(""), fields) == 0


def test_age_adds_the_age_header_the_response_delay_and_the_time_resident() -> None:
    age = current_age(
        age_header="10", date_header=None, request_time=100.0, response_time=102.0, now=110.0
    )

    assert age == 10 + 2 + 8


def test_age_uses_the_apparent_age_when_date_says_the_response_is_older() -> None:
    age = current_age(
        age_header=None,
        date_header=DATE,
        request_time=DATE_SECONDS + 29,
        response_time=DATE_SECONDS + 30,
        now=DATE_SECONDS + 35,
    )

    assert age == 30 + 5


def test_a_malformed_age_counts_as_zero() -> None:
    age = current_age(
        age_header="-5", date_header="garbage", request_time=1, response_time=1, now=1
    )

    assert age == 0


def test_freshness_moves_from_fresh_to_stale_while_revalidate_to_stale() -> None:
    policy = response_policy(headers(cache_control=DEMO_CONTROL))

    assert [policy.freshness(age) for age in (0, 59.9, 60, 89.9, 90)] == [
        Freshness.FRESH,
        Freshness.FRESH,
        Freshness.STALE_WHILE_REVALIDATE,
        Freshness.STALE_WHILE_REVALIDATE,
        Freshness.STALE,
    ]
    assert policy.may_serve_stale_on_error(659)
    assert not policy.may_serve_stale_on_error(660)
    assert policy.retention(age=0) == 660


@pytest.mark.parametrize("directive", ["must-revalidate", "proxy-revalidate", "no-cache"])
def test_revalidation_directives_withdraw_permission_to_serve_stale(directive: str) -> None:
    policy = response_policy(headers(cache_control=f"{DEMO_CONTROL}, {directive}"))

    assert policy.freshness(61) is Freshness.STALE
    assert not policy.may_serve_stale_on_error(61)


def test_no_cache_responses_are_kept_only_to_be_revalidated() -> None:
    policy = response_policy(headers(cache_control="no-cache, max-age=600"))

    assert policy.freshness(0) is Freshness.STALE
    assert policy.retention(age=0) == 0
    assert policy.retention(age=0, revalidation_grace=120) == 120


def test_a_304_updates_the_stored_headers_but_not_the_framing() -> None:
    stored = [("etag", '"a"'), ("cache-control", "max-age=1"), ("content-length", "5"), ("x", "1")]
    update = [("cache-control", "max-age=60"), ("content-length", "0"), ("x-new", "2")]

    assert freshened_headers(stored, update) == [
        ("etag", '"a"'),
        ("content-length", "5"),
        ("x", "1"),
        ("cache-control", "max-age=60"),
        ("x-new", "2"),
    ]


def test_vary_names_are_lowercased_sorted_and_unique() -> None:
    assert vary_names(["Accept-Language, accept", "ACCEPT"]) == ("accept", "accept-language")
    assert vary_names(["accept", " * "]) is None
    assert vary_names([]) == ()


def test_variants_differ_by_value_but_not_by_whitespace() -> None:
    names = ("accept-language",)
    base = variant_fingerprint(names, headers(accept_language="en,  de"))

    assert variant_fingerprint(names, headers(accept_language=" en, de ")) == base
    assert variant_fingerprint(names, headers(accept_language="de")) != base
    assert variant_fingerprint(names, {}) != base


@pytest.mark.parametrize(
    ("query", "normalised"),
    [
        ("b=2&a=1", "a=1&b=2"),
        ("a=1&utm_source=x&utm_medium=y&fbclid=z&gclid=w", "a=1"),
        ("tag=z&tag=a&b", "b=&tag=z&tag=a"),
        ("q=caf%C3%A9+au+lait", "q=caf%C3%A9%20au%20lait"),
        ("q=%5B1%5D", "q=%5B1%5D"),
        ("", ""),
        ("utm_source=only", ""),
    ],
)
def test_queries_are_normalised_for_the_cache_key(query: str, normalised: str) -> None:
    assert normalise_query(query) == normalised


def test_the_ignored_parameters_are_configurable() -> None:
    assert normalise_query("ref=x&a=1&utm_source=y", ["ref"]) == "a=1&utm_source=y"


def test_a_query_with_too_many_parameters_is_not_a_cache_key() -> None:
    with pytest.raises(QueryTooComplex):
        normalise_query("&".join(f"p{i}=1" for i in range(300)))


def test_the_cache_key_is_path_and_normalised_query() -> None:
    assert cache_key("/api/products", "a=1") == "/api/products?a=1"
    assert cache_key("/api/products", "") == "/api/products"


@given(st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=8))
def test_normalising_twice_changes_nothing(pairs: list[tuple[str, str]]) -> None:
    once = normalise_query(urlencode(pairs))

    assert normalise_query(once) == once


@pytest.mark.parametrize(
    ("if_none_match", "etag", "matches"),
    [
        ('"abc"', '"abc"', True),
        ('W/"abc"', '"abc"', True),
        ('"x", "abc"', 'W/"abc"', True),
        ('"a,b"', '"a,b"', True),
        ("*", '"anything"', True),
        ('"abd"', '"abc"', False),
        ("abc", '"abc"', False),
        ('"abc"', None, False),
        (None, '"abc"', False),
        (", ".join(f'"t{i}"' for i in range(MAX_ENTITY_TAGS)) + ', "abc"', '"abc"', False),
    ],
    ids=[
        "same",
        "weak",
        "list",
        "comma-inside",
        "star",
        "other",
        "unquoted",
        "no-etag",
        "no-header",
        "too-many",
    ],
)
def test_if_none_match_uses_weak_comparison_and_bounds_its_work(
    if_none_match: str | None, etag: str | None, matches: bool
) -> None:
    assert if_none_match_matches(if_none_match, etag) is matches


def test_tags_are_split_deduplicated_and_bounded() -> None:
    parsed = parse_tags(["products, product:3", "products,bad tag,,x\x7f"])

    assert parsed.tags == ("products", "product:3")
    assert parsed.rejected == 2


def test_too_many_tags_are_reported_so_the_response_is_not_stored() -> None:
    parsed = parse_tags([",".join(f"t{i}" for i in range(MAX_TAGS + 3))])

    assert len(parsed.tags) == MAX_TAGS
    assert parsed.rejected == 3
