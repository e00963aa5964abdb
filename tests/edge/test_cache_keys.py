"""A cache key is the target the origin receives: two requests share a stored copy only when the
origin would be asked the same thing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.answers import EarlyAnswer
from edge.request_checks import parse_target
from shared.http_cache import cache_key, normalise_query

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "cache_keys.json").read_text(encoding="utf-8")
)["distinct"]
BASE = "/api/products"


def key_of(target: str) -> str:
    parsed = parse_target(target)
    return cache_key(parsed.path, normalise_query(parsed.query))


def forwarded(target: str) -> str:
    parsed = parse_target(target)
    return parsed.forwarded(normalise_query(parsed.query))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["probe"])
def test_targets_the_origin_tells_apart_have_different_keys(case: dict[str, str]) -> None:
    cached, probe = BASE + case["cached"], BASE + case["probe"]

    assert forwarded(cached) != forwarded(probe)
    assert key_of(cached) != key_of(probe)


@given(st.text(alphabet="/?#%&=;+abcAF19 é\x7f", max_size=24))
def test_the_key_is_exactly_the_target_forwarded(suffix: str) -> None:
    target = BASE + suffix
    try:
        parse_target(target)
    except EarlyAnswer:
        return  # refused before any cache is consulted
    assert key_of(target) == forwarded(target)
    assert "#" not in key_of(target)  # the separator of a key from its variant
