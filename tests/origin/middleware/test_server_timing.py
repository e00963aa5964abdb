"""Server-Timing entries: the header syntax and the helpers handlers use."""

from __future__ import annotations

import time
from typing import Any

import pytest

from origin.middleware.server_timing import ServerTiming, server_timing, timed, timing_of


def test_the_total_comes_first_then_entries_in_order() -> None:
    timing = ServerTiming()
    timing.add("db", 1.5)
    timing.add("cache", 0.123456, "redis")
    assert timing.header_value(3.14159) == 'app;dur=3.14, db;dur=1.50, cache;dur=0.12;desc="redis"'


def test_descriptions_are_quoted_strings() -> None:
    timing = ServerTiming()
    timing.add("db", 1.0, 'say "hi" \\ bye')
    assert timing.header_value(2.0).endswith(';desc="say \\"hi\\" \\\\ bye"')


@pytest.mark.parametrize("name", ["", "two words", "semi;colon", "comma,", 'quote"'])
def test_names_must_be_tokens(name: str) -> None:
    with pytest.raises(ValueError, match="HTTP token"):
        ServerTiming().add(name, 1.0)
    with pytest.raises(ValueError, match="HTTP token"), timed({}, name):
        pass


def test_timings_live_in_the_scope_state_shared_by_every_layer() -> None:
    scope: dict[str, Any] = {"state": {}}
    assert timing_of(scope) is None
    server_timing(scope).add("a", 1.0)
    server_timing(scope).add("b", 2.0)
    timing = timing_of(scope)
    assert timing is not None
    assert timing.header_value(0.0) == "app;dur=0.00, a;dur=1.00, b;dur=2.00"


def test_timed_measures_the_block_even_when_it_raises() -> None:
    scope: dict[str, Any] = {}

    def slow_failure() -> None:
        with timed(scope, "lookup"):
            time.sleep(0.005)
            raise KeyError("x")

    with pytest.raises(KeyError):
        slow_failure()
    timing = timing_of(scope)
    assert timing is not None
    entry = timing.header_value(0.0).split(", ")[1]
    assert entry.startswith("lookup;dur=")
    assert float(entry.removeprefix("lookup;dur=")) >= 5.0
