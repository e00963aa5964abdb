"""The pure rules for request ids and W3C trace context."""

from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.trace_context import (
    MAX_REQUEST_ID_LENGTH,
    RandomHex,
    TraceParent,
    id_hex,
    identify_request,
    is_valid_request_id,
    parse_traceparent,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
SAFE_CHARACTERS = set(string.ascii_letters + string.digits + "._:+=/-")


def counting_hex(nbytes: int) -> str:
    """Deterministic stand-in for secrets.token_hex: 1...1, 2...2, ... (hex digits 1-f)."""
    digit = f"{next(_counter) % 15 + 1:x}"
    return digit * (nbytes * 2)


_counter = itertools.count(1)


def fixed_hex(*values: str) -> RandomHex:
    pending = list(values)

    def random_hex(nbytes: int) -> str:
        value = pending.pop(0)
        assert len(value) == nbytes * 2
        return value

    return random_hex


def test_a_well_formed_traceparent_is_parsed() -> None:
    assert parse_traceparent(f"00-{TRACE}-{PARENT}-01") == TraceParent(TRACE, PARENT, "01")


def test_a_future_version_may_carry_more_fields() -> None:
    assert parse_traceparent(f"cc-{TRACE}-{PARENT}-01-what-the-future-holds") == TraceParent(
        TRACE, PARENT, "01"
    )


@pytest.mark.parametrize(
    "value",
    [
        f"00-{TRACE}-{PARENT}-01-more",  # version 00 has exactly four fields
        f"cc-{TRACE}-{PARENT}-01x",  # extra fields must be separated by '-'
        f"ff-{TRACE}-{PARENT}-01",
        f"0g-{TRACE}-{PARENT}-01",
        f"00-{TRACE.upper()}-{PARENT}-01",
        f"00-{'0' * 32}-{PARENT}-01",
        f"00-{TRACE}-{'0' * 16}-01",
        f"00_{TRACE}-{PARENT}-01",
        f"00-{TRACE}-{PARENT}-zz",
        "",
    ],
)
def test_malformed_traceparents_are_rejected(value: str) -> None:
    assert parse_traceparent(value) is None


def test_identity_keeps_the_incoming_trace_and_uses_a_new_span() -> None:
    identity = identify_request(None, f"00-{TRACE}-{PARENT}-01", fixed_hex("f" * 32 + "a" * 16))
    assert identity.trace == TraceParent(TRACE, "a" * 16, "01")
    assert identity.trace.header() == f"00-{TRACE}-{'a' * 16}-01"
    assert identity.request_id == TRACE


def test_identity_starts_a_trace_when_none_came_in() -> None:
    identity = identify_request("req-9", None, fixed_hex("c" * 32 + "b" * 16))
    assert identity.trace == TraceParent("c" * 32, "b" * 16, "00")
    assert identity.request_id == "req-9"


@pytest.mark.parametrize(
    "first_draw", ["0" * 32 + "1" * 16, "1" * 32 + "0" * 16], ids=["zero-trace", "zero-span"]
)
def test_all_zero_random_ids_are_drawn_again(first_draw: str) -> None:
    identity = identify_request(None, None, fixed_hex(first_draw, "e" * 32 + "d" * 16))
    assert identity.trace == TraceParent("e" * 32, "d" * 16, "00")


def test_new_ids_are_lowercase_hex_of_the_asked_length_and_do_not_repeat() -> None:
    drawn = [id_hex(24) for _ in range(2000)]
    # Leading zero digits are kept: an id drawn small still has its full width.
    assert {len(value) for value in drawn} == {48}
    assert set("".join(drawn)) == set("0123456789abcdef")
    assert len(set(drawn)) == len(drawn)


def test_new_ids_start_valid_traces() -> None:
    identity = identify_request(None, None, id_hex)
    assert parse_traceparent(identity.trace.header()) == identity.trace
    assert identity.request_id == identity.trace.trace_id


def test_request_ids_up_to_the_length_bound_are_valid() -> None:
    assert is_valid_request_id("a" * MAX_REQUEST_ID_LENGTH)
    assert not is_valid_request_id("a" * (MAX_REQUEST_ID_LENGTH + 1))
    assert not is_valid_request_id("")


@given(st.text(max_size=200))
def test_any_accepted_request_id_is_short_and_header_safe(value: str) -> None:
    identity = identify_request(value, None, counting_hex)
    assert 0 < len(identity.request_id) <= MAX_REQUEST_ID_LENGTH
    assert set(identity.request_id) <= SAFE_CHARACTERS
    assert (identity.request_id == value) == is_valid_request_id(value)


@given(
    st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).filter(lambda v: v.strip("0")),
    st.text(alphabet="0123456789abcdef", min_size=16, max_size=16).filter(lambda v: v.strip("0")),
    st.text(alphabet="0123456789abcdef", min_size=2, max_size=2),
)
def test_every_valid_traceparent_round_trips(trace_id: str, parent_id: str, flags: str) -> None:
    trace = TraceParent(trace_id, parent_id, flags)
    assert parse_traceparent(trace.header()) == trace
