"""The generic response cache (``origin.http_cache``) on a small app of its own, not the demo:
a read is rendered once and then served from Redis with the headers a shared cache needs; a
write through ``invalidating`` drops the copies it makes stale."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from origin.purge.outbox import pending_tags
from origin.settings import Settings
from tests.origin.conftest import running
from tests.origin.layers_app import POLICY, THINGS_TAG, counts, layers_app

pytestmark = pytest.mark.anyio


async def test_a_read_is_rendered_once_then_served_from_the_store(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    first = await layers_client.get("/things")
    second = await layers_client.get("/things")

    assert first.status_code == second.status_code == 200
    assert first.headers["x-origin-cache"] == "MISS"
    assert second.headers["x-origin-cache"] == "HIT"
    assert second.content == first.content
    assert first.json() == {"things": ["a", "b"], "rendering": 1}
    assert counts(layers).produced == 1


async def test_a_cached_read_carries_what_a_shared_cache_needs(
    layers_client: httpx.AsyncClient,
) -> None:
    response = await layers_client.get("/things")

    assert response.headers["cache-control"] == (
        "public, max-age=0, s-maxage=120, stale-while-revalidate=10, stale-if-error=300"
    )
    assert response.headers["cache-control"] == POLICY.cache_control
    assert response.headers["cache-tag"] == THINGS_TAG
    assert response.headers["content-type"] == "application/json"
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert len(etag) == 26  # a strong ETag: 24 hex digits, quoted


@pytest.mark.parametrize("if_none_match", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
async def test_a_matching_if_none_match_gets_304_without_a_body(
    layers_client: httpx.AsyncClient, if_none_match: str
) -> None:
    etag = (await layers_client.get("/things")).headers["etag"]

    header = {"If-None-Match": if_none_match.format(etag=etag)}
    response = await layers_client.get("/things", headers=header)

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-tag"] == THINGS_TAG


async def test_a_stale_if_none_match_gets_the_full_answer(layers_client: httpx.AsyncClient) -> None:
    response = await layers_client.get("/things", headers={"If-None-Match": '"not-ours"'})

    assert response.status_code == 200
    assert response.json()["things"] == ["a", "b"]


async def test_the_same_query_in_another_order_is_the_same_copy(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    first = await layers_client.get("/things?a=1&b=2")
    second = await layers_client.get("/things?b=2&a=1")
    other = await layers_client.get("/things?a=2&b=2")

    assert (first.headers["x-origin-cache"], second.headers["x-origin-cache"]) == ("MISS", "HIT")
    assert other.headers["x-origin-cache"] == "MISS"
    assert counts(layers).produced == 2


async def test_an_error_from_the_producer_is_answered_and_never_cached(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    first = await layers_client.get("/things?missing=1")
    second = await layers_client.get("/things?missing=1")

    assert first.status_code == second.status_code == 404
    assert second.json()["error"]["code"] == "not_found"
    assert "cache-control" not in second.headers
    assert counts(layers).produced == 0


async def test_a_write_drops_the_copies_it_makes_stale_and_tells_the_edge(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    await layers_client.get("/things")

    written = await layers_client.post("/things")
    after = await layers_client.get("/things")

    assert written.status_code == 200
    assert written.headers["purge-tags"] == THINGS_TAG
    assert after.headers["x-origin-cache"] == "MISS"
    assert after.json()["rendering"] == 2


async def test_a_failed_write_keeps_the_copies(
    layers: Starlette, layers_client: httpx.AsyncClient
) -> None:
    await layers_client.get("/things")

    failed = await layers_client.post("/things", headers={"X-Fail": "1"})
    after = await layers_client.get("/things")

    assert failed.status_code == 409
    assert "purge-tags" not in failed.headers
    assert after.headers["x-origin-cache"] == "HIT"


async def test_with_the_response_cache_off_every_read_is_rendered(
    migrated_url: str, redis_url: str, redis_prefix: str
) -> None:
    settings = Settings.from_mapping(
        {"DATABASE_URL": migrated_url, "OUTPOST_RESPONSE_CACHE": "off"}
    )
    async with (
        layers_app(migrated_url, redis_url, prefix=redis_prefix, settings=settings) as layers,
        running(layers) as layers_client,
    ):
        first = await layers_client.get("/things")
        second = await layers_client.get("/things")

    assert first.headers["x-origin-cache"] == second.headers["x-origin-cache"] == "BYPASS"
    assert second.json()["rendering"] == 2
    assert second.headers["etag"] != first.headers["etag"]  # each rendering is its own


async def test_with_purging_configured_a_write_records_its_purge_only_if_it_committed(
    migrated_url: str, redis_url: str, redis_prefix: str
) -> None:
    settings = Settings.from_mapping(
        {
            "DATABASE_URL": migrated_url,
            "CLOUDFLARE_API_TOKEN": "token",
            "CLOUDFLARE_ZONE_ID": "zone",
        }
    )
    async with layers_app(
        migrated_url, redis_url, prefix=redis_prefix, settings=settings
    ) as layers:
        engine = layers.state.services.engine
        async with running(layers) as layers_client:
            failed = await layers_client.post("/things", headers={"X-Fail": "1"})
            assert failed.status_code == 409
            assert list(await pending_tags(engine)) == []

            written = await layers_client.post("/things")
            assert written.status_code == 200
            assert list(await pending_tags(engine)) == [THINGS_TAG]
