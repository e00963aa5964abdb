"""The edge's copy of the origin's JWKS: fetched over real HTTP (the lab origin), kept for its
max age, refetched early for an unknown kid at most once per interval, never lost to a failed
fetch."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from edge.jwks import JwksCache, JwksUnavailable
from edge.runtime.cpython.runtime import HttpxUpstream
from tests.edge.support.clocks import SteppedClock
from tests.edge.support.lab import GARBAGE, HANG, Lab, LabResponse, running_lab
from tests.edge.support.tokens import ES256_KID, corpus_jwks

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab() as server:
        yield server


@pytest.fixture
async def upstream() -> AsyncIterator[HttpxUpstream]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield HttpxUpstream(client, max_body_bytes=1_000_000)


def jwks_cache(
    lab: Lab, upstream: HttpxUpstream, clock: SteppedClock, *answers: LabResponse
) -> tuple[JwksCache, str]:
    path = lab.script(f"/keys/{secrets.token_hex(4)}", *answers)
    cache = JwksCache(
        url=lab.base_url + path,
        upstream=upstream,
        clock=clock,
        max_age_seconds=300,
        refetch_interval_seconds=30,
    )
    return cache, path


GOOD = LabResponse.json(corpus_jwks())


async def test_keys_are_fetched_once_and_kept_for_their_max_age(
    lab: Lab, upstream: HttpxUpstream
) -> None:
    clock = SteppedClock()
    cache, path = jwks_cache(lab, upstream, clock, GOOD)

    keys = await cache.keys()
    clock.advance(299)
    await cache.keys()
    assert len(lab.received(path)) == 1
    clock.advance(1)
    await cache.keys()

    assert len(lab.received(path)) == 2
    assert keys.select(ES256_KID, "ES256").kid == ES256_KID


async def test_symmetric_keys_in_a_fetched_jwks_are_skipped(
    lab: Lab, upstream: HttpxUpstream
) -> None:
    cache, _ = jwks_cache(lab, upstream, SteppedClock(), GOOD)

    keys = await cache.keys()

    assert [skipped.kid for skipped in keys.skipped] == ["test-hs256-2025"]


async def test_an_unknown_kid_refetches_at_most_once_per_interval(
    lab: Lab, upstream: HttpxUpstream
) -> None:
    clock = SteppedClock()
    cache, path = jwks_cache(lab, upstream, clock, GOOD)
    await cache.keys()
    clock.advance(30)

    outcomes = [await cache.refresh_for_unknown_kid() for _ in range(5)]
    clock.advance(29.9)
    too_soon = await cache.refresh_for_unknown_kid()
    clock.advance(0.1)
    allowed_again = await cache.refresh_for_unknown_kid()

    assert outcomes == [True, False, False, False, False]
    assert (too_soon, allowed_again) == (False, True)
    assert len(lab.received(path)) == 3


async def test_a_failed_refetch_keeps_the_keys_already_held(
    lab: Lab, upstream: HttpxUpstream
) -> None:
    clock = SteppedClock()
    cache, _ = jwks_cache(
        lab, upstream, clock, GOOD, GARBAGE, LabResponse(500), LabResponse(200, (), b"not json")
    )
    keys = await cache.keys()

    for _ in range(3):
        clock.advance(300)
        assert await cache.keys() is keys


async def test_without_any_keys_verification_is_unavailable(
    lab: Lab, upstream: HttpxUpstream
) -> None:
    clock = SteppedClock()
    cache, path = jwks_cache(lab, upstream, clock, LabResponse(503))

    with pytest.raises(JwksUnavailable):
        await cache.keys()
    with pytest.raises(JwksUnavailable):
        await cache.keys()  # within the interval: no second attempt

    assert len(lab.received(path)) == 1


async def test_while_a_refresh_is_in_flight_other_requests_use_the_keys_held(
    lab: Lab, upstream: HttpxUpstream
) -> None:
    # On workerd a request may not wait for I/O another request started (it is cancelled as hung).
    clock = SteppedClock()
    cache, path = jwks_cache(lab, upstream, clock, GOOD, HANG)
    held = await cache.keys()
    clock.advance(300)
    refreshing = asyncio.create_task(cache.keys())
    await _until(lambda: len(lab.received(path)) == 2)

    others = await asyncio.wait_for(asyncio.gather(*(cache.keys() for _ in range(5))), 1)
    unknown_kid = await asyncio.wait_for(cache.refresh_for_unknown_kid(), 1)
    refreshing.cancel()

    assert all(keys is held for keys in others)
    assert unknown_kid is False
    assert len(lab.received(path)) == 2


async def test_before_any_keys_arrived_a_request_fetches_its_own_rather_than_wait(
    lab: Lab, upstream: HttpxUpstream
) -> None:
    cache, path = jwks_cache(lab, upstream, SteppedClock(), HANG, GOOD)
    first = asyncio.create_task(cache.keys())
    await _until(lambda: len(lab.received(path)) == 1)

    keys = await asyncio.wait_for(cache.keys(), 2)
    first.cancel()

    assert keys.keys
    assert len(lab.received(path)) == 2


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_an_oversized_jwks_is_refused(lab: Lab, upstream: HttpxUpstream) -> None:
    huge = {"keys": [{"kty": "oct", "k": "x" * 70_000}]}
    cache, _ = jwks_cache(lab, upstream, SteppedClock(), LabResponse.json(huge))

    with pytest.raises(JwksUnavailable):
        await cache.keys()
