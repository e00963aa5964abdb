"""The origin's response cache keys a read by its target exactly as the edge does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from starlette.requests import Request

from origin.http_cache import cache_key

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "cache_keys.json").read_text(encoding="utf-8")
)["distinct"]
BASE = "/api/products"


def request(target: str) -> Request:
    """A request as an ASGI server presents it: the path decoded, the query as sent."""
    raw_path, _, query = target.partition("?")
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": unquote(raw_path),
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "headers": [],
        }
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case["probe"])
def test_targets_that_only_look_alike_have_different_keys(case: dict[str, str]) -> None:
    assert cache_key(request(BASE + case["cached"])) != cache_key(request(BASE + case["probe"]))


def test_parameter_order_does_not_split_the_cache() -> None:
    assert cache_key(request(f"{BASE}?b=2&a=1")) == cache_key(request(f"{BASE}?a=1&b=2"))


def test_no_parameter_is_ignored_at_the_origin() -> None:
    """The edge may leave tracking parameters out of its key; a route may still read them."""
    assert cache_key(request(f"{BASE}?utm_source=x")) != cache_key(request(BASE))


def test_a_query_too_complex_to_key_on_is_not_cached() -> None:
    crowded = "&".join(f"p{i}=1" for i in range(300))
    assert cache_key(request(f"{BASE}?{crowded}")) is None
