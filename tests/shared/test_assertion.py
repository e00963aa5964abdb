"""The edge-to-origin assertion: round trip, forgery, rotation, time window, request binding."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.assertion import (
    MAX_ASSERTION_LENGTH,
    AssertionErrorReason,
    AssertionInvalid,
    path_digest,
    sign_assertion,
    valid_address,
    verify_assertion,
)
from shared.b64 import b64url_encode
from shared.principal import Principal

OLD_SECRET = b"o" * 32
NEW_SECRET = b"n" * 32
NOW = 1_760_000_000
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def sign(**changes: Any) -> str:
    fields: dict[str, Any] = {
        "secret": OLD_SECRET,
        "key_id": "2025a",
        "method": "GET",
        "path": "/api/orders?page=2",
        "subject": "alice",
        "roles": ["customer", "admin"],
        "country": "DE",
        "issued_at": NOW,
        "nonce": "nonce-0123456789abcdef",
    }
    fields.update(changes)
    return sign_assertion(**fields)


def verify(header: str, **changes: Any) -> Any:
    arguments: dict[str, Any] = {
        "secrets": {"2025a": OLD_SECRET},
        "method": "GET",
        "path": "/api/orders?page=2",
        "now": NOW,
    }
    arguments.update(changes)
    return verify_assertion(header, **arguments)


def refusal(header: Any, **changes: Any) -> AssertionErrorReason:
    with pytest.raises(AssertionInvalid) as refused:
        verify(header, **changes)
    return refused.value.reason


@pytest.mark.parametrize("client", ["203.0.113.7", "2001:db8::1", None])
def test_the_clients_address_travels_signed(client: str | None) -> None:
    assert verify(sign(client=client)).client == client


@pytest.mark.parametrize("session_id", ["s-0123456789abcdef", "~!x", None])
def test_the_tokens_session_travels_signed(session_id: str | None) -> None:
    """The origin checks revocation against it: the client's token need not travel along."""
    assert verify(sign(session_id=session_id)).session_id == session_id


@pytest.mark.parametrize(
    "changes",
    [
        {"session_id": ""},
        {"session_id": "has space"},
        {"session_id": "nul\x00"},
        {"session_id": "x" * 129},
        {"session_id": "s-1", "subject": None},
    ],
)
def test_the_edge_cannot_sign_a_session_the_origin_could_not_look_up(
    changes: dict[str, Any],
) -> None:
    with pytest.raises(ValueError, match="session"):
        sign(**changes)


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 2001:DB8::1 ", "2001:db8::1"),
        ("localhost", None),
        ("1.2.3.4, 5.6.7.8", None),
        ("fe80::1%eth0", None),
        (None, None),
    ],
)
def test_only_real_addresses_are_carried(raw: str | None, address: str | None) -> None:
    assert valid_address(raw) == address


@pytest.mark.parametrize("client", ["", "localhost", "1.2.3.4; DROP", "x" * 46])
def test_the_edge_cannot_sign_something_that_is_not_an_address(client: str) -> None:
    with pytest.raises(ValueError, match="client"):
        sign(client=client)


def test_a_signed_assertion_verifies_to_what_the_edge_established() -> None:
    assertion = verify(sign())
    assert assertion.subject == "alice"
    assert assertion.roles == {"admin", "customer"}
    assert assertion.country == "DE"
    assert (assertion.method, assertion.path) == ("GET", "/api/orders?page=2")
    assert (assertion.issued_at, assertion.key_id) == (NOW, "2025a")
    assert assertion.principal() == Principal("alice", frozenset({"admin", "customer"}), "DE")


def test_the_header_is_compact_and_bounded_whatever_the_url_length() -> None:
    long_path = "/search?q=" + "x" * 20_000
    header = sign(path=long_path)
    assert header.startswith("v2.2025a.")
    assert len(header) < 400
    assert verify(header, path=long_path).path == long_path


def test_an_anonymous_request_with_unknown_country_has_no_principal() -> None:
    assertion = verify(sign(subject=None, roles=[], country=None))
    assert (assertion.subject, assertion.country, assertion.roles) == (None, None, frozenset())
    assert assertion.principal() is None


def test_the_nonce_is_returned_with_how_long_it_must_be_remembered() -> None:
    assertion = verify(sign(), now=NOW + 10, max_age_seconds=30)
    assert assertion.nonce == "nonce-0123456789abcdef"
    assert assertion.nonce_expires_at == NOW + 30
    assert assertion.replay_ttl_seconds(NOW + 10) == 20
    assert assertion.replay_ttl_seconds(NOW + 30) == 1


def test_changing_any_character_of_payload_or_mac_is_detected_as_forgery() -> None:
    header = sign()
    start = len("v2.2025a.")
    for position in range(start, len(header)):
        if header[position] == ".":
            continue
        for replacement in (B64URL[(B64URL.index(header[position]) + 1) % 64], "A"):
            if replacement == header[position]:
                continue
            forged = header[:position] + replacement + header[position + 1 :]
            assert refusal(forged) is AssertionErrorReason.FORGED, position


def test_a_wrong_secret_is_forgery() -> None:
    assert refusal(sign(secret=b"x" * 32)) is AssertionErrorReason.FORGED


def test_during_rotation_both_secrets_are_accepted_and_a_retired_one_is_not() -> None:
    both = {"2025a": OLD_SECRET, "2025b": NEW_SECRET}
    assert verify(sign(), secrets=both).key_id == "2025a"
    assert verify(sign(secret=NEW_SECRET, key_id="2025b"), secrets=both).key_id == "2025b"
    retired = refusal(sign(), secrets={"2025b": NEW_SECRET})
    assert retired is AssertionErrorReason.UNKNOWN_KEY


def test_a_key_id_cannot_pick_another_key_s_secret() -> None:
    relabelled = sign().replace("v2.2025a.", "v2.2025b.", 1)
    both = {"2025a": OLD_SECRET, "2025b": NEW_SECRET}
    assert refusal(relabelled, secrets=both) is AssertionErrorReason.FORGED


def test_an_assertion_is_accepted_until_its_maximum_age_and_refused_after() -> None:
    header = sign()
    verify(header, now=NOW + 30, max_age_seconds=30)
    assert refusal(header, now=NOW + 30.5, max_age_seconds=30) is AssertionErrorReason.EXPIRED


def test_a_clock_skew_up_to_the_bound_is_tolerated_and_beyond_it_is_the_future() -> None:
    header = sign()
    verify(header, now=NOW - 5, max_skew_seconds=5)
    refused = refusal(header, now=NOW - 5.5, max_skew_seconds=5)
    assert refused is AssertionErrorReason.FROM_FUTURE


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"method": "POST"}, AssertionErrorReason.METHOD_MISMATCH),
        ({"method": "get"}, AssertionErrorReason.METHOD_MISMATCH),
        ({"path": "/api/orders?page=3"}, AssertionErrorReason.PATH_MISMATCH),
        ({"path": "/api/orders"}, AssertionErrorReason.PATH_MISMATCH),
        ({"path": "/api/admin?page=2"}, AssertionErrorReason.PATH_MISMATCH),
    ],
)
def test_an_assertion_only_covers_the_request_it_was_signed_for(
    changes: dict[str, str], reason: AssertionErrorReason
) -> None:
    assert refusal(sign(), **changes) is reason


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", AssertionErrorReason.MALFORMED),
        ("garbage", AssertionErrorReason.MALFORMED),
        ("v2.2025a.e30", AssertionErrorReason.MALFORMED),
        ("v2.2025a.e30." + "A" * 42, AssertionErrorReason.MALFORMED),
        ("v2..e30." + "A" * 43, AssertionErrorReason.MALFORMED),
        ("v1.2025a.e30." + "A" * 43, AssertionErrorReason.UNSUPPORTED_VERSION),
        ("v3.2025a.e30." + "A" * 43, AssertionErrorReason.UNSUPPORTED_VERSION),
        ("v2.2025a.e30." + "A" * 43 + " ", AssertionErrorReason.MALFORMED),
        ("v2.2025a.ü." + "A" * 43, AssertionErrorReason.MALFORMED),
        ("v2.2025a." + "A" * MAX_ASSERTION_LENGTH, AssertionErrorReason.MALFORMED),
        (None, AssertionErrorReason.MALFORMED),
        (b"v2", AssertionErrorReason.MALFORMED),
    ],
)
def test_malformed_headers_are_refused(header: Any, reason: AssertionErrorReason) -> None:
    assert refusal(header) is reason


def mac_over(payload: dict[str, Any] | str) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    signed = f"v2.2025a.{b64url_encode(text.encode())}"
    mac = b64url_encode(hmac.digest(OLD_SECRET, signed.encode(), hashlib.sha256))
    return f"{signed}.{mac}"


VALID_PAYLOAD: dict[str, Any] = {
    "m": "GET",
    "h": path_digest("/api/orders?page=2"),
    "s": "alice",
    "r": [],
    "i": "s-1",
    "c": None,
    "a": None,
    "t": NOW,
    "n": "n" * 16,
}


def test_the_payload_members_the_origin_reads_are_these() -> None:
    assert verify(mac_over(VALID_PAYLOAD)).session_id == "s-1"


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[]",
        {"m": "GET"},
        {"m": "GET", "h": "x", "s": "a", "r": [], "c": None, "t": "soon", "n": "n" * 16},
        {"m": "GET", "h": "x", "s": "", "r": [], "c": None, "t": NOW, "n": "n" * 16},
        {"m": "GET", "h": "x", "s": "a", "r": "admin", "c": None, "t": NOW, "n": "n" * 16},
        {"m": "GET", "h": "x", "s": "a", "r": [], "c": None, "t": True, "n": "n" * 16},
        {"m": "GET", "h": "x", "s": "a", "r": [], "c": None, "t": NOW, "n": "n" * 16, "x": 1},
        {**VALID_PAYLOAD, "i": 7},
        {**VALID_PAYLOAD, "i": ""},
        {**VALID_PAYLOAD, "i": "a b"},
        {**VALID_PAYLOAD, "i": "s-1", "s": None},
        {key: value for key, value in VALID_PAYLOAD.items() if key != "i"},
    ],
)
def test_a_correctly_signed_but_malformed_payload_is_still_refused(
    payload: dict[str, Any] | str,
) -> None:
    assert refusal(mac_over(payload)) is AssertionErrorReason.MALFORMED


def test_the_path_digest_covers_path_and_query_byte_for_byte() -> None:
    assert path_digest("/a?b=1") != path_digest("/a?b=1&")
    assert path_digest("/a") != path_digest("/A")
    assert len(path_digest("/" + "x" * 10_000)) == 64


@pytest.mark.parametrize(
    "changes",
    [
        {"secret": b"short"},
        {"key_id": "has.dot"},
        {"key_id": ""},
        {"method": "get"},
        {"nonce": "short"},
        {"nonce": "has space in it!!"},
        {"country": "de"},
        {"country": "DEU"},
        {"subject": ""},
        {"issued_at": 1.5},
        {"issued_at": -1},
    ],
)
def test_signing_refuses_values_the_origin_could_not_check(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        sign(**changes)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.text(alphabet=B64URL + ".v2", max_size=200))
def test_random_headers_raise_nothing_but_assertion_invalid(header: str) -> None:
    with pytest.raises(AssertionInvalid):
        verify(header)
