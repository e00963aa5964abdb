"""The edge's shared cache (RFC 9111), against scripted origin responses.

Each test scripts a path on the lab origin: the responses it answers in order. Staleness is set
with the ``Age`` header rather than by waiting, so no test sleeps to let a copy expire.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from edge.request_checks import parse_target
from shared.http_cache import variant_fingerprint
from tests.edge.behaviour.conftest import EdgeUnderTest
from tests.edge.support.lab import CLOSE, GARBAGE, HANG, RESET, Lab, LabResponse
from tests.edge.support.tokens import mint

PUBLIC = ("cache-control", "public, max-age=600")


def body(version: str, *headers: tuple[str, str]) -> LabResponse:
    return LabResponse(200, (("content-type", "text/plain"), *headers), version.encode())


def get(edge: EdgeUnderTest, path: str, **headers: str) -> httpx.Response:
    return edge.client.get(path, headers=headers)


def test_a_cacheable_response_is_a_miss_then_a_hit(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/c/{unique}", body("v1", PUBLIC), body("v2", PUBLIC))

    first, second = get(lab_edge, path), get(lab_edge, path)

    assert (first.headers["x-cache"], first.text) == ("MISS", "v1")
    assert (second.headers["x-cache"], second.text) == ("HIT", "v1")
    assert int(second.headers["age"]) >= 0
    assert len(lab.received(path)) == 1


def test_query_order_and_tracking_parameters_do_not_split_the_cache(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/c/{unique}", body("v1", PUBLIC), body("v2", PUBLIC))

    first = get(lab_edge, f"{path}?b=2&a=1&utm_source=mail")
    reordered = get(lab_edge, f"{path}?a=1&b=2&fbclid=abc&gclid=x&utm_campaign=y")
    different = get(lab_edge, f"{path}?a=1&b=3")

    assert (first.headers["x-cache"], reordered.headers["x-cache"]) == ("MISS", "HIT")
    assert reordered.text == "v1"
    assert (different.headers["x-cache"], different.text) == ("MISS", "v2")
    assert [r.target for r in lab.received(path)] == [f"{path}?a=1&b=2", f"{path}?a=1&b=3"]


def test_responses_vary_by_the_request_headers_vary_names(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    vary = ("vary", "Accept-Language")
    path = lab.script(f"/c/{unique}", body("english", PUBLIC, vary), body("deutsch", PUBLIC, vary))

    en = get(lab_edge, path, **{"Accept-Language": "en"})
    de = get(lab_edge, path, **{"Accept-Language": "de"})
    en_again = get(lab_edge, path, **{"Accept-Language": "en"})
    de_again = get(lab_edge, path, **{"Accept-Language": "de"})

    assert [r.headers["x-cache"] for r in (en, de, en_again, de_again)] == [
        "MISS",
        "MISS",
        "HIT",
        "HIT",
    ]
    assert [r.text for r in (en, de, en_again, de_again)] == ["english", "deutsch"] * 2


@pytest.mark.parametrize(
    "refusal",
    [
        ("cache-control", "private, max-age=600"),
        ("cache-control", "no-store, max-age=600"),
        ("set-cookie", "session=alice"),
        ("vary", "*"),
    ],
    ids=["private", "no-store", "set-cookie", "vary-star"],
)
def test_responses_a_shared_cache_must_not_keep_are_never_served_again(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, refusal: tuple[str, str]
) -> None:
    path = lab.script(f"/c/{unique}", body("for-alice", PUBLIC, refusal), body("for-bob", PUBLIC))

    alice = get(lab_edge, path)
    bob = get(lab_edge, path)

    assert (alice.headers["x-cache"], alice.text) == ("BYPASS", "for-alice")
    assert bob.text == "for-bob"
    assert len(lab.received(path)) == 2


def test_a_response_without_explicit_freshness_is_never_kept(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/c/{unique}", body("one"), body("two"))

    assert [get(lab_edge, path).text for _ in range(2)] == ["one", "two"]


def test_a_private_response_to_one_user_is_never_served_to_another(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    # The origin marks the answer private but still gives it a lifetime: the edge must not share.
    private = ("cache-control", "private, max-age=600")
    path = lab.script(
        f"/auth/me/{unique}", body("alice's orders", private), body("bob's orders", private)
    )
    alice = lab_edge.client.get(path, headers={"Authorization": f"Bearer {mint('alice')}"})
    bob = lab_edge.client.get(path, headers={"Authorization": f"Bearer {mint('bob')}"})

    assert alice.text == "alice's orders"
    assert (bob.headers["x-cache"], bob.text) == ("BYPASS", "bob's orders")


def test_an_answer_to_an_authenticated_request_is_kept_only_if_marked_shareable(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    # max-age alone does not make a response to an authorized request shareable (RFC 9111 §3.5).
    path = lab.script(
        f"/auth/me/{unique}",
        body("alice's", ("cache-control", "max-age=600")),
        body("bob's", ("cache-control", "max-age=600")),
    )
    alice = lab_edge.client.get(path, headers={"Authorization": f"Bearer {mint('alice')}"})
    bob = lab_edge.client.get(path, headers={"Authorization": f"Bearer {mint('bob')}"})

    assert (alice.text, bob.text) == ("alice's", "bob's")
    assert bob.headers["x-cache"] == "BYPASS"


def test_a_public_response_is_shared_with_authenticated_requests(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    shareable = ("cache-control", "public, s-maxage=600")
    path = lab.script(f"/auth/me/{unique}", body("catalog", shareable), body("other", shareable))
    lab_edge.client.get(path, headers={"Authorization": f"Bearer {mint('alice')}"})
    bob = lab_edge.client.get(path, headers={"Authorization": f"Bearer {mint('bob')}"})

    assert (bob.headers["x-cache"], bob.text) == ("HIT", "catalog")


def test_stale_while_revalidate_serves_stale_and_refreshes_in_the_background(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    swr = ("cache-control", "public, s-maxage=60, stale-while-revalidate=30")
    path = lab.script(f"/c/{unique}", body("v1", swr, ("age", "65")), body("v2", swr))

    first = get(lab_edge, path)
    stale = get(lab_edge, path)
    refreshed = _eventually(lambda: get(lab_edge, path), lambda r: r.text == "v2")

    assert (first.headers["x-cache"], stale.headers["x-cache"], stale.text) == (
        "MISS",
        "STALE",
        "v1",
    )
    assert refreshed.headers["x-cache"] == "HIT"
    assert len(lab.received(path)) == 2


@pytest.mark.parametrize(
    "failure",
    [RESET, GARBAGE, CLOSE, HANG, LabResponse(503, (), b"down")],
    ids=["reset", "garbage", "close", "timeout", "503"],
)
def test_stale_if_error_serves_the_stale_copy_when_the_origin_fails(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, failure: LabResponse
) -> None:
    sie = ("cache-control", "public, s-maxage=60, stale-if-error=600")
    path = lab.script(f"/c/{unique}", body("v1", sie, ("age", "61")), failure)

    first = get(lab_edge, path)
    during_outage = get(lab_edge, path)

    assert first.text == "v1"
    assert (during_outage.status_code, during_outage.text) == (200, "v1")
    assert during_outage.headers["x-cache"] == "STALE"


def test_past_stale_if_error_an_origin_failure_is_a_502(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    sie = ("cache-control", "public, s-maxage=60, stale-if-error=10")
    path = lab.script(f"/c/{unique}", body("v1", sie, ("age", "75"), ("etag", '"e1"')), RESET)

    get(lab_edge, path)
    response = get(lab_edge, path)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"


def test_a_stale_copy_is_revalidated_with_its_etag_and_a_304_refreshes_it(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    control = ("cache-control", "public, s-maxage=60")
    etag = ("etag", '"v1-tag"')
    path = lab.script(
        f"/c/{unique}",
        body("v1", control, etag, ("age", "61")),
        LabResponse(304, (control, etag)),
    )

    first = get(lab_edge, path)
    revalidated = get(lab_edge, path)
    fresh_again = get(lab_edge, path)

    requests = lab.received(path)
    assert [r.header("if-none-match") for r in requests] == [None, '"v1-tag"']
    assert (revalidated.status_code, revalidated.text) == (200, "v1")
    assert revalidated.headers["x-cache"] == "HIT"
    assert 'desc="HIT revalidated"' in revalidated.headers["server-timing"]
    assert (first.text, fresh_again.headers["x-cache"]) == ("v1", "HIT")


def test_a_client_conditional_request_is_answered_304_from_the_cache(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/c/{unique}", body("v1", PUBLIC, ("etag", '"abc"')))

    get(lab_edge, path)
    response = get(lab_edge, path, **{"If-None-Match": 'W/"zzz", "abc"'})

    assert (response.status_code, response.content) == (304, b"")
    assert response.headers["etag"] == '"abc"'
    assert len(lab.received(path)) == 1


def test_a_conditional_request_on_a_miss_still_fills_the_cache(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/c/{unique}", body("v1", PUBLIC, ("etag", '"abc"')))

    first = get(lab_edge, path, **{"If-None-Match": '"abc"'})
    second = get(lab_edge, path)

    assert lab.received(path)[0].header("if-none-match") is None  # the edge asked for it all
    assert (first.status_code, second.status_code, second.text) == (304, 200, "v1")


def test_head_is_answered_from_the_cached_get(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/c/{unique}", body("v1", PUBLIC))

    get(lab_edge, path)
    head = lab_edge.client.head(path)

    assert (head.status_code, head.content, head.headers["x-cache"]) == (200, b"", "HIT")


def test_a_purge_tag_named_by_a_write_invalidates_every_copy_that_carries_it(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    tag = f"tag-{unique}"
    tagged = ("cache-tag", f"other,{tag}")
    first = lab.script(f"/c/{unique}/one", body("one-v1", PUBLIC, tagged), body("one-v2", PUBLIC))
    second = lab.script(f"/c/{unique}/two", body("two-v1", PUBLIC, tagged), body("two-v2", PUBLIC))
    untouched = lab.script(f"/c/{unique}/three", body("three", PUBLIC, ("cache-tag", "other")))
    write = lab.script(f"/w/{unique}", LabResponse(200, (("purge-tags", f"{tag},unrelated"),)))
    for path in (first, second, untouched):
        assert get(lab_edge, path).headers["x-cache"] == "MISS"

    purged = lab_edge.client.post(write, json={})

    assert "purge-tags" not in purged.headers  # edge-origin protocol, not for clients
    assert "cache-tag" not in get(lab_edge, untouched).headers
    assert [get(lab_edge, p).headers["x-cache"] for p in (first, second, untouched)] == [
        "MISS",
        "MISS",
        "HIT",
    ]
    assert [get(lab_edge, p).text for p in (first, second)] == ["one-v2", "two-v2"]


def test_a_successful_write_invalidates_its_own_url(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/c/{unique}", body("v1", PUBLIC), body("written"), body("v2", PUBLIC))
    get(lab_edge, path)

    lab_edge.client.put(path, content=b"new")

    assert (get(lab_edge, path).headers["x-cache"], get(lab_edge, path).text) == ("MISS", "v2")


def _eventually(
    fetch: Callable[[], httpx.Response],
    done: Callable[[httpx.Response], bool],
    timeout: float = 5.0,
) -> httpx.Response:
    """Repeat ``fetch`` until ``done`` (background work finishes on its own schedule)."""
    deadline = time.monotonic() + timeout
    while True:
        response = fetch()
        if done(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.02)


CACHE_KEY_CASES = json.loads(
    (Path(__file__).parents[2] / "data" / "cache_keys.json").read_text(encoding="utf-8")
)["distinct"]


@pytest.mark.parametrize("case", CACHE_KEY_CASES, ids=lambda case: case["probe"])
def test_a_target_that_only_looks_like_a_cached_one_is_not_served_its_copy(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str, case: dict[str, str]
) -> None:
    base = f"/c/{unique}"
    cached_path, probe_path = (
        parse_target((base + case[name]).partition("?")[0]).forward_path
        for name in ("cached", "probe")
    )
    if probe_path == cached_path:  # the lab scripts by path: the probe's answer comes second
        lab.script(cached_path, body("cached", PUBLIC), body("probe", PUBLIC))
    else:
        lab.script(cached_path, body("cached", PUBLIC))
        lab.script(probe_path, body("probe", PUBLIC))

    first = lab_edge.client.get(base + case["cached"])
    probe = lab_edge.client.get(base + case["probe"])

    assert (first.headers["x-cache"], first.text) == ("MISS", "cached")
    assert (probe.headers["x-cache"], probe.text) == ("MISS", "probe")


def test_a_path_naming_a_variants_key_is_not_that_variant(
    lab_edge: EdgeUnderTest, lab: Lab, unique: str
) -> None:
    vary = ("vary", "Accept-Language")
    base = lab.script(f"/c/{unique}", body("english", PUBLIC, vary))
    variant = variant_fingerprint(("accept-language",), {"accept-language": ["en"]})
    lab.script(f"{base}%23{variant}", body("probe", PUBLIC))

    english = get(lab_edge, base, **{"Accept-Language": "en"})
    probe = get(lab_edge, f"{base}%23{variant}", **{"Accept-Language": "en"})

    assert english.text == "english"
    assert (probe.headers["x-cache"], probe.text) == ("MISS", "probe")
