"""The settings rules both sides follow: what a duration, a size, a port or a switch is."""

from __future__ import annotations

import json

import pytest

from shared import settings_rules as rules


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "nan", "0", "-0.5", "ten"])
def test_a_duration_is_a_positive_finite_number_of_seconds(text: str) -> None:
    with pytest.raises(ValueError, match=r"finite number|not convert|positive"):
        rules.duration(text)


@pytest.mark.parametrize(("text", "seconds"), [("10", 10.0), ("0.25", 0.25), (" 3 ", 3.0)])
def test_durations_that_are_accepted(text: str, seconds: float) -> None:
    assert rules.duration(text) == seconds


def test_sizes_and_whole_numbers_name_their_bounds() -> None:
    assert rules.size("1048576") == 1_048_576
    with pytest.raises(ValueError, match="positive whole number"):
        rules.size("0")
    with pytest.raises(ValueError, match="at least 256"):
        rules.size("255", minimum=256)
    with pytest.raises(ValueError, match="between 1 and 500"):
        rules.whole_number("501", 1, 500)
    with pytest.raises(ValueError, match="invalid literal"):
        rules.size("1.5")


@pytest.mark.parametrize(("text", "port"), [("0", 0), ("8000", 8000), ("65535", 65535)])
def test_ports(text: str, port: int) -> None:
    assert rules.port(text) == port


@pytest.mark.parametrize("text", ["-1", "65536", "http"])
def test_what_is_no_port(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message varies: not a number, out of range)
        rules.port(text)


@pytest.mark.parametrize(
    ("text", "on"), [("on", True), ("OFF", False), ("true", True), ("0", False), (" 1 ", True)]
)
def test_switches(text: str, on: bool) -> None:
    assert rules.switch(text) is on


def test_a_switch_is_on_or_off() -> None:
    with pytest.raises(ValueError, match="expected on or off"):
        rules.switch("maybe")


def test_comma_separated_lists_drop_blank_items() -> None:
    assert rules.comma_separated(" a, b ,,c ,") == ("a", "b", "c")
    assert rules.comma_separated("") == ()


def test_the_policy_files_are_where_both_sides_read_them() -> None:
    assert json.loads(rules.GEOFENCE_POLICY_FILE.read_text(encoding="utf-8"))["rules"]
    assert json.loads(rules.ROUTES_FILE.read_text(encoding="utf-8"))["routes"]


def test_the_development_secret_is_long_enough_to_be_accepted() -> None:
    from shared.assertion import MIN_SECRET_BYTES

    assert len(rules.DEVELOPMENT_EDGE_SECRET.encode()) >= MIN_SECRET_BYTES
