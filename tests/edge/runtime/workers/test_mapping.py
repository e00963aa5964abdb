"""The pure translations the Cloudflare adapter relies on (run on CPython)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from edge.cache_store import ENTRY_PREFIX, TAG_PREFIX
from edge.runtime.workers.mapping import (
    MAX_KEY_PATH_CHARS,
    cache_control_for_ttl,
    cache_key_url,
    cache_tag_of,
    decoded_body_headers,
    location_from_cf,
    sendable_headers,
    target_of_url,
)
from shared.geofence import Location


def test_entry_keys_map_to_distinct_urls_on_the_reserved_host() -> None:
    keys = [f"{ENTRY_PREFIX}GET /a?x=1", f"{ENTRY_PREFIX}GET /a?x=1#v", f"{ENTRY_PREFIX}GET /a/b"]

    urls = [cache_key_url(key, "cache.example.com") for key in keys]

    assert len(set(urls)) == len(keys)
    assert all(urlsplit(url).hostname == "cache.example.com" for url in urls)
    assert all("?" not in url and "#" not in url for url in urls)
    assert [unquote(urlsplit(url).path.removeprefix("/key/")) for url in urls] == keys


def test_a_tag_record_url_is_derived_from_the_tag_alone() -> None:
    assert cache_key_url(f"{TAG_PREFIX}products") == cache_key_url(f"{TAG_PREFIX}products")
    assert cache_key_url(f"{TAG_PREFIX}products", "h.test") == "https://h.test/tag/products"
    assert cache_tag_of(f"{TAG_PREFIX}products") == "products"
    assert cache_tag_of(f"{ENTRY_PREFIX}GET /") is None


def test_very_long_keys_are_hashed_and_stay_distinct() -> None:
    long_a = ENTRY_PREFIX + "a" * (MAX_KEY_PATH_CHARS + 10)
    long_b = ENTRY_PREFIX + "a" * (MAX_KEY_PATH_CHARS + 11)

    url_a, url_b = cache_key_url(long_a), cache_key_url(long_b)

    assert url_a != url_b
    assert len(url_a) < 200
    assert "/sha256/" in url_a


def test_ttl_becomes_a_whole_number_of_seconds_never_zero() -> None:
    assert cache_control_for_ttl(60) == "s-maxage=60"
    assert cache_control_for_ttl(0.2) == "s-maxage=1"
    assert cache_control_for_ttl(59.5) == "s-maxage=60"


def test_cloudflares_continent_and_eu_flag_are_used() -> None:
    assert location_from_cf("de", "EU", "1") == Location("DE", "EU", True)
    assert location_from_cf("US", "NA", None) == Location("US", "NA", False)


def test_unknown_and_tor_stay_explicit_and_garbage_is_no_country() -> None:
    assert location_from_cf("XX", None, None).country == "XX"
    assert location_from_cf("T1", "T1", None).country == "T1"
    assert location_from_cf("not a country", "EU", "1") == Location(country=None)
    assert location_from_cf(None, None, None) == Location(country=None)


def test_the_target_is_the_path_and_query_as_spelled() -> None:
    assert target_of_url("https://shop.example.com/api/products?b=2&a=1") == (
        "/api/products?b=2&a=1"
    )
    assert target_of_url("http://127.0.0.1:8787/a%20b/%2F?q=%ff") == "/a%20b/%2F?q=%ff"
    assert target_of_url("https://shop.example.com") == "/"
    assert target_of_url("https://shop.example.com/x#fragment") == "/x"


def test_a_body_fetch_decoded_loses_its_encoding_headers() -> None:
    headers = [
        ("content-type", "text/plain"),
        ("content-encoding", "gzip"),
        ("content-length", "9"),
    ]

    assert decoded_body_headers(headers) == [("content-type", "text/plain")]


def test_a_coding_fetch_does_not_decode_is_kept() -> None:
    headers = [("content-encoding", "zstd"), ("content-length", "9")]

    assert decoded_body_headers(headers) == headers
    assert decoded_body_headers([("content-length", "3")]) == [("content-length", "3")]


@pytest.mark.parametrize(
    ("headers", "sendable"),
    [
        ([("content-type", "text/plain"), ("x-empty", ""), ("x-latin", "caf\u00e9")], True),
        ([("set-cookie ", "injected=1")], False),
        ([("x a", "1")], False),
        ([("", "1")], False),
        ([("x-note", "a\r\nset-cookie: injected=1")], False),
        ([("x-note", "a\nb")], False),
        ([("x-note", "a\x00b")], False),
    ],
    ids=["ordinary", "space-in-name", "inner-space", "empty-name", "crlf", "lf", "nul"],
)
def test_only_headers_a_new_headers_object_accepts_are_passed_on(
    headers: list[tuple[str, str]], sendable: bool
) -> None:
    assert sendable_headers(headers) is sendable
