"""What every store promises, checked against the in-process store and real Redis alike."""

from __future__ import annotations

import pytest

from origin.kv import Lookup

from .conftest import StoreUnderTest

pytestmark = pytest.mark.anyio


# --- values -------------------------------------------------------------------------------------


async def test_get_returns_what_set_stored_and_none_for_unknown_keys(
    subject: StoreUnderTest,
) -> None:
    await subject.store.set("session:1", b"\x00payload\xff", ttl_seconds=30)

    assert await subject.store.get("session:1") == b"\x00payload\xff"
    assert await subject.store.get("session:2") is None


async def test_set_replaces_the_previous_value(subject: StoreUnderTest) -> None:
    await subject.store.set("k", b"first", ttl_seconds=30)
    await subject.store.set("k", b"second", ttl_seconds=30)

    assert await subject.store.get("k") == b"second"


async def test_a_value_lives_until_its_ttl_and_not_after(subject: StoreUnderTest) -> None:
    await subject.store.set("short", b"v", ttl_seconds=0.3)

    await subject.advance(0.1)
    assert await subject.store.get("short") == b"v"
    await subject.advance(0.3)
    assert await subject.store.get("short") is None


async def test_add_stores_only_when_the_key_holds_nothing(subject: StoreUnderTest) -> None:
    assert await subject.store.add("idem:42", b"owner-a", ttl_seconds=30) is True
    assert await subject.store.add("idem:42", b"owner-b", ttl_seconds=30) is False
    assert await subject.store.get("idem:42") == b"owner-a"

    assert await subject.store.delete("idem:42") == 1
    assert await subject.store.add("idem:42", b"owner-b", ttl_seconds=30) is True


async def test_add_succeeds_again_once_the_previous_value_expired(
    subject: StoreUnderTest,
) -> None:
    assert await subject.store.add("nonce:n1", b"1", ttl_seconds=0.1) is True
    await subject.advance(0.2)

    assert await subject.store.add("nonce:n1", b"2", ttl_seconds=30) is True
    assert await subject.store.get("nonce:n1") == b"2"


async def test_delete_removes_the_keys_and_counts_only_those_that_existed(
    subject: StoreUnderTest,
) -> None:
    await subject.store.set("a", b"1", ttl_seconds=30)
    await subject.store.set("b", b"2", ttl_seconds=30)

    assert await subject.store.delete("a", "b", "never-set") == 2
    assert await subject.store.get("a") is None
    assert await subject.store.get("b") is None
    assert await subject.store.delete() == 0


@pytest.mark.parametrize("ttl", [0, -1.0])
async def test_a_ttl_that_is_not_positive_is_refused(subject: StoreUnderTest, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        await subject.store.set("k", b"v", ttl_seconds=ttl)
    with pytest.raises(ValueError, match="ttl_seconds"):
        await subject.store.add("k", b"v", ttl_seconds=ttl)
    with pytest.raises(ValueError, match="ttl_seconds"):
        await subject.store.cache_put("k", b"v", ["t"], ttl_seconds=ttl)


async def test_reads_are_counted_as_hits_and_misses(subject: StoreUnderTest) -> None:
    await subject.store.set("present", b"v", ttl_seconds=30)

    await subject.store.get("present")
    await subject.store.get("present")
    await subject.store.get("absent")

    assert (subject.store.stats.hits, subject.store.stats.misses) == (2, 1)
    assert subject.store.stats.errors == 0


# --- response cache -----------------------------------------------------------------------------


async def test_a_cached_response_is_read_back_with_get(subject: StoreUnderTest) -> None:
    await subject.store.cache_put("response:/api/products", b"[]", ["products"], ttl_seconds=30)

    assert await subject.store.get("response:/api/products") == b"[]"


async def test_a_cached_response_without_tags_is_still_cached(subject: StoreUnderTest) -> None:
    await subject.store.cache_put("response:/about", b"about", [], ttl_seconds=30)

    assert await subject.store.get("response:/about") == b"about"


async def test_invalidating_a_tag_removes_every_entry_under_it_and_nothing_else(
    subject: StoreUnderTest,
) -> None:
    store = subject.store
    await store.cache_put("response:/api/products", b"list", ["products"], ttl_seconds=30)
    await store.cache_put("response:/api/products/1", b"one", ["products", "product:1"], 30)
    await store.cache_put("response:/api/orders", b"orders", ["orders"], ttl_seconds=30)

    assert await store.invalidate_tags(["products"]) == 2

    assert await store.get("response:/api/products") is None
    assert await store.get("response:/api/products/1") is None
    assert await store.get("response:/api/orders") == b"orders"


async def test_an_entry_under_several_tags_goes_when_any_one_is_invalidated(
    subject: StoreUnderTest,
) -> None:
    await subject.store.cache_put("response:/p/7", b"p7", ["products", "product:7"], 30)

    assert await subject.store.invalidate_tags(["product:7", "products"]) == 1
    assert await subject.store.get("response:/p/7") is None


async def test_invalidating_tags_nobody_used_removes_nothing(subject: StoreUnderTest) -> None:
    await subject.store.cache_put("response:/x", b"x", ["x"], ttl_seconds=30)

    assert await subject.store.invalidate_tags(["unknown"]) == 0
    assert await subject.store.invalidate_tags([]) == 0
    assert await subject.store.get("response:/x") == b"x"


async def test_an_entry_cached_again_after_invalidation_can_be_invalidated_again(
    subject: StoreUnderTest,
) -> None:
    await subject.store.cache_put("response:/p", b"v1", ["products"], ttl_seconds=30)
    await subject.store.invalidate_tags(["products"])
    await subject.store.cache_put("response:/p", b"v2", ["products"], ttl_seconds=30)

    assert await subject.store.get("response:/p") == b"v2"
    assert await subject.store.invalidate_tags(["products"]) == 1
    assert await subject.store.get("response:/p") is None


async def test_a_cached_entry_expires_and_is_not_counted_by_a_later_invalidation(
    subject: StoreUnderTest,
) -> None:
    await subject.store.cache_put("response:/short", b"s", ["products"], ttl_seconds=0.1)
    await subject.store.cache_put("response:/long", b"l", ["products"], ttl_seconds=30)
    await subject.advance(0.2)

    assert await subject.store.get("response:/short") is None
    assert await subject.store.invalidate_tags(["products"]) == 1


async def test_invalidate_all_drops_every_tagged_entry_but_keeps_other_values(
    subject: StoreUnderTest,
) -> None:
    store = subject.store
    await store.cache_put("response:/a", b"a", ["a"], ttl_seconds=30)
    await store.cache_put("response:/b", b"b", ["b", "a"], ttl_seconds=30)
    await store.set("revoked:jti-1", b"1", ttl_seconds=30)

    assert await store.invalidate_all() == 2

    assert await store.get("response:/a") is None
    assert await store.get("response:/b") is None
    assert await store.get("revoked:jti-1") == b"1"


# --- rate limiting ------------------------------------------------------------------------------


async def test_a_bucket_allows_exactly_limit_requests_at_once_then_denies(
    subject: StoreUnderTest,
) -> None:
    decisions = [await subject.store.hit("addr:1", limit=5, window_seconds=1.0) for _ in range(6)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert all(d.limit == 5 for d in decisions)
    assert all(d.retry_after_seconds == 0 for d in decisions[:5])
    denied = decisions[-1]
    # The next request is due one emission interval (window / limit) after the burst.
    assert 0.15 < denied.retry_after_seconds <= 0.2
    assert 0.95 < denied.reset_after_seconds <= 1.0


async def test_a_denied_client_is_allowed_again_after_retry_after(
    subject: StoreUnderTest,
) -> None:
    for _ in range(3):
        await subject.store.hit("addr:2", limit=3, window_seconds=0.3)
    denied = await subject.store.hit("addr:2", limit=3, window_seconds=0.3)
    assert not denied.allowed

    await subject.advance(denied.retry_after_seconds + 0.005)

    assert (await subject.store.hit("addr:2", limit=3, window_seconds=0.3)).allowed
    assert not (await subject.store.hit("addr:2", limit=3, window_seconds=0.3)).allowed


async def test_denied_requests_do_not_push_the_next_allowed_one_further_away(
    subject: StoreUnderTest,
) -> None:
    for _ in range(2):
        await subject.store.hit("addr:3", limit=2, window_seconds=0.4)
    denials = [await subject.store.hit("addr:3", limit=2, window_seconds=0.4) for _ in range(20)]

    assert not any(d.allowed for d in denials)
    assert all(d.retry_after_seconds <= 0.2 for d in denials)


async def test_the_whole_budget_is_back_one_window_after_a_burst(subject: StoreUnderTest) -> None:
    for _ in range(4):
        await subject.store.hit("addr:4", limit=4, window_seconds=0.4)

    await subject.advance(0.41)

    again = [await subject.store.hit("addr:4", limit=4, window_seconds=0.4) for _ in range(5)]
    assert [d.allowed for d in again] == [True] * 4 + [False]
    assert again[0].remaining == 3


async def test_there_is_no_second_full_burst_at_a_window_edge(subject: StoreUnderTest) -> None:
    # A fixed window would hand out a whole new budget once its boundary passes, allowing
    # 2 x limit within moments. Half a window after a full burst, half the budget is back.
    for _ in range(4):
        await subject.store.hit("addr:5", limit=4, window_seconds=0.4)
    await subject.advance(0.2)

    second_burst = [
        await subject.store.hit("addr:5", limit=4, window_seconds=0.4) for _ in range(4)
    ]

    assert [d.allowed for d in second_burst] == [True, True, False, False]


async def test_hit_and_read_spends_the_budget_and_reads_the_value_in_one_call(
    subject: StoreUnderTest,
) -> None:
    await subject.store.cache_put("response:/api/products", b"[]", ["products"], ttl_seconds=30)

    found = [
        await subject.store.hit_and_read("addr:1", 2, 1.0, ["response:/api/products"])
        for _ in range(3)
    ]
    _, absent = await subject.store.hit_and_read("addr:2", 2, 1.0, ["response:/nothing"])

    assert [decision.allowed for decision, _ in found] == [True, True, False]
    assert [decision.remaining for decision, _ in found] == [1, 0, 0]
    assert [values for _, values in found] == [[b"[]"]] * 3  # read even when the budget is spent
    assert absent == [None]
    assert (subject.store.stats.hits, subject.store.stats.misses) == (3, 1)
    # The same bucket as hit's: hit_and_read spent it.
    assert not (await subject.store.hit("addr:1", 2, 1.0)).allowed


async def test_buckets_do_not_share_a_budget(subject: StoreUnderTest) -> None:
    assert (await subject.store.hit("sub:alice", limit=1, window_seconds=10)).allowed
    assert not (await subject.store.hit("sub:alice", limit=1, window_seconds=10)).allowed

    assert (await subject.store.hit("sub:bob", limit=1, window_seconds=10)).allowed


@pytest.mark.parametrize(("limit", "window"), [(0, 1.0), (-3, 1.0), (5, 0.0), (5, -1.0)])
async def test_a_limit_or_window_that_cannot_work_is_refused(
    subject: StoreUnderTest, limit: int, window: float
) -> None:
    with pytest.raises(ValueError, match=r"limit|window"):
        await subject.store.hit("addr:6", limit=limit, window_seconds=window)


async def test_ping_and_check_answer_when_the_backend_is_up(subject: StoreUnderTest) -> None:
    await subject.store.ping()
    await subject.store.check()

    assert subject.store.healthy


async def test_hit_and_read_reads_every_key_and_spends_the_other_bucket_when_a_refusing_one_is_set(
    subject: StoreUnderTest,
) -> None:
    await subject.store.set("revoked-session:s1", b"1", ttl_seconds=30)
    await subject.store.set("response:/a", b"cached", ttl_seconds=30)

    kept, values = await subject.store.hit_and_read(
        "sub:alice",
        1,
        60.0,
        [Lookup("revoked-session:s2", refuses=True), "response:/a"],
        instead="addr:1",
    )
    revoked, marked = await subject.store.hit_and_read(
        "sub:alice",
        1,
        60.0,
        [Lookup("revoked-session:s1", refuses=True), "response:/b"],
        instead="addr:1",
    )

    assert values == [None, b"cached"]
    assert marked == [b"1", None]
    assert kept.allowed
    assert kept.remaining == 0
    # The revoked caller spent the address's bucket (the only request there), not alice's.
    assert revoked.allowed
    assert not (await subject.store.hit("sub:alice", 1, 60.0)).allowed
    assert not (await subject.store.hit("addr:1", 1, 60.0)).allowed


async def test_a_value_found_by_a_read_that_does_not_refuse_spends_the_callers_own_bucket(
    subject: StoreUnderTest,
) -> None:
    await subject.store.set("response:/a", b"cached", ttl_seconds=30)

    decision, values = await subject.store.hit_and_read(
        "sub:alice", 1, 60.0, ["response:/a"], instead="addr:1"
    )

    assert (decision.allowed, values) == (True, [b"cached"])
    assert not (await subject.store.hit("sub:alice", 1, 60.0)).allowed
    assert (await subject.store.hit("addr:1", 1, 60.0)).allowed


async def test_a_claim_in_hit_and_read_takes_the_key_once_and_reads_what_it_held(
    subject: StoreUnderTest,
) -> None:
    nonce = Lookup("assertion-nonce:n1", claim_ttl_seconds=30, refuses=True)

    _, first = await subject.store.hit_and_read("sub:alice", 5, 60.0, [nonce], instead="addr:1")
    replay, second = await subject.store.hit_and_read(
        "sub:alice", 5, 60.0, [nonce], instead="addr:1"
    )

    assert first == [None]  # nothing was there: this call claimed it
    assert second == [b"1"]  # claimed before: a replay
    assert await subject.store.get("assertion-nonce:n1") == b"1"
    # A claim is a write-if-absent like add: add no longer succeeds, and vice versa.
    assert await subject.store.add("assertion-nonce:n1", b"x", ttl_seconds=30) is False
    await subject.store.add("assertion-nonce:n2", b"x", ttl_seconds=30)
    _, taken = await subject.store.hit_and_read(
        "sub:bob", 5, 60.0, [Lookup("assertion-nonce:n2", claim_ttl_seconds=30)]
    )
    assert taken == [b"x"]
    # The replay spent the address's budget: alice has spent one request, addr:1 one.
    assert replay.allowed
    assert (await subject.store.hit("sub:alice", 5, 60.0)).remaining == 3
    assert (await subject.store.hit("addr:1", 5, 60.0)).remaining == 3


async def test_a_claim_lasts_its_time_to_live_and_can_be_taken_again_after(
    subject: StoreUnderTest,
) -> None:
    nonce = Lookup("assertion-nonce:short", claim_ttl_seconds=0.3)

    _, first = await subject.store.hit_and_read("addr:1", 100, 60.0, [nonce])
    await subject.advance(0.1)
    _, during = await subject.store.hit_and_read("addr:1", 100, 60.0, [nonce])
    await subject.advance(0.3)
    _, after = await subject.store.hit_and_read("addr:1", 100, 60.0, [nonce])

    assert (first, during, after) == ([None], [b"1"], [None])
