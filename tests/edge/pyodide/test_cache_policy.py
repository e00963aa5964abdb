"""Cloudflare's Cache API rules as the harness applies them (tools/pyodide-host/cache-policy.mjs):
what cache.put() stores and for how long, and how a stored response answers conditional and
range requests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.edge.pyodide.node_eval import evaluate

NOW_MS = 1_800_000_000_000
DATE = "Fri, 15 Jan 2027 08:00:00 GMT"
ONE_MINUTE_LATER = "Fri, 15 Jan 2027 08:01:00 GMT"


def put(status: int = 200, method: str = "GET", **headers: str) -> str:
    init = json.dumps({name.replace("_", "-"): value for name, value in headers.items()})
    return (
        f'm.decidePut({{method: "{method}", status: {status}, responseType: "default", '
        f"headers: new Headers({init}), nowMs: {NOW_MS}}})"
    )


PUT_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "a POST is refused": (
        put(method="POST"),
        {"outcome": "reject", "message": "Cannot cache response to non-GET request."},
    ),
    "a 206 is refused": (
        put(status=206),
        {
            "outcome": "reject",
            "message": "Cannot cache response to a range request (206 Partial Content).",
        },
    ),
    "Vary: * is refused": (
        put(vary="Accept, *"),
        {"outcome": "reject", "message": "Cannot cache response with 'Vary: *' header."},
    ),
    "a 304 is ignored": (put(status=304), {"outcome": "skip"}),
    "no-store is not stored": (put(cache_control="public, no-store"), {"outcome": "skip"}),
    "private is not stored": (put(cache_control="private, max-age=60"), {"outcome": "skip"}),
    "no-cache is not stored": (put(cache_control="no-cache"), {"outcome": "skip"}),
    "Set-Cookie is not stored": (
        put(cache_control="max-age=60", set_cookie="a=1"),
        {"outcome": "skip"},
    ),
    "private=Set-Cookie stores without the cookie": (
        put(cache_control='max-age=60, private="Set-Cookie"', set_cookie="a=1"),
        {"outcome": "store", "ttlSeconds": 60, "strippedHeaders": ["set-cookie"], "tags": []},
    ),
    "s-maxage wins over max-age": (
        put(cache_control="max-age=600, s-maxage=30"),
        {"outcome": "store", "ttlSeconds": 30},
    ),
    "a malformed max-age is stale": (put(cache_control="max-age=soon"), {"outcome": "skip"}),
    "Expires counts from Date": (
        put(expires=ONE_MINUTE_LATER, date=DATE),
        {"outcome": "store", "ttlSeconds": 60},
    ),
    "an invalid Expires is stale": (put(expires="0"), {"outcome": "skip"}),
    "a bare 200 lives 2 hours": (put(), {"outcome": "store", "ttlSeconds": 7200}),
    "a bare 302 lives 20 minutes": (put(status=302), {"outcome": "store", "ttlSeconds": 1200}),
    "a bare 404 lives 3 minutes": (put(status=404), {"outcome": "store", "ttlSeconds": 180}),
    "a bare 500 is not stored": (put(status=500), {"outcome": "skip"}),
    "Cache-Tag values are kept lower-cased": (
        put(cache_control="max-age=5", cache_tag="Products, catalog ,,"),
        {"outcome": "store", "tags": ["products", "catalog"]},
    ),
}


def validators(request: dict[str, str], stored: dict[str, str]) -> str:
    return f"m.isNotModified(new Headers({json.dumps(request)}), new Headers({json.dumps(stored)}))"


CONDITIONAL_CASES: dict[str, tuple[str, bool]] = {
    "a matching ETag": (validators({"if-none-match": '"v1"'}, {"etag": '"v1"'}), True),
    "a weak match": (validators({"if-none-match": 'W/"v1", "v2"'}, {"etag": '"v1"'}), True),
    "another ETag": (validators({"if-none-match": '"v2"'}, {"etag": '"v1"'}), False),
    "any ETag": (validators({"if-none-match": "*"}, {"etag": '"v1"'}), True),
    "no stored ETag": (validators({"if-none-match": "*"}, {}), False),
    "unchanged since": (
        validators({"if-modified-since": ONE_MINUTE_LATER}, {"last-modified": DATE}),
        True,
    ),
    "changed since": (
        validators({"if-modified-since": DATE}, {"last-modified": ONE_MINUTE_LATER}),
        False,
    ),
    "If-None-Match overrides If-Modified-Since": (
        validators(
            {"if-none-match": '"v2"', "if-modified-since": ONE_MINUTE_LATER},
            {"etag": '"v1"', "last-modified": DATE},
        ),
        False,
    ),
}

RANGE_CASES: dict[str, tuple[str | None, Any]] = {
    "a closed range": ("bytes=1-2", {"start": 1, "end": 2}),
    "a suffix range": ("bytes=-2", {"start": 8, "end": 9}),
    "an open range": ("bytes=7-", {"start": 7, "end": 9}),
    "an end past the body is clamped": ("bytes=5-999", {"start": 5, "end": 9}),
    "a start past the body": ("bytes=10-", "unsatisfiable"),
    "an absurd start": ("bytes=99999999999999999999999-", "unsatisfiable"),
    "an empty suffix": ("bytes=-0", "unsatisfiable"),
    "several ranges are served whole": ("bytes=0-1,4-5", None),
    "a reversed range is ignored": ("bytes=5-1", None),
    "another unit is ignored": ("items=0-1", None),
    "no Range": (None, None),
}


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    expressions = {name: expression for name, (expression, _) in PUT_CASES.items()}
    expressions |= {name: expression for name, (expression, _) in CONDITIONAL_CASES.items()}
    expressions |= {
        name: f"m.byteRange({json.dumps(header)}, 10)" for name, (header, _) in RANGE_CASES.items()
    }
    return evaluate("cache-policy.mjs", expressions)


@pytest.mark.parametrize("case", PUT_CASES)
def test_cache_put_decision(results: dict[str, dict[str, Any]], case: str) -> None:
    decision = results[case]["value"]
    expected = PUT_CASES[case][1]

    assert {key: decision.get(key) for key in expected} == expected


@pytest.mark.parametrize("case", CONDITIONAL_CASES)
def test_conditional_match(results: dict[str, dict[str, Any]], case: str) -> None:
    assert results[case]["value"] is CONDITIONAL_CASES[case][1]


@pytest.mark.parametrize("case", RANGE_CASES)
def test_range_of_a_ten_byte_body(results: dict[str, dict[str, Any]], case: str) -> None:
    assert results[case]["value"] == RANGE_CASES[case][1]
