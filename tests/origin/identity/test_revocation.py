"""A revoked session's access tokens are refused at once: through Redis, and with Redis down."""

from __future__ import annotations

import asyncio

import pytest
import redis

from origin.db import create_engine, session_factory
from origin.identity.revocation import RevocationList, marker_key
from origin.kv.memory_store import MemoryStore
from tests.origin.identity.conftest import OriginStarter, bearer
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio

ALICE = "alice@example.com"


@pytest.fixture(params=["memory", "redis"])
def store_settings(request: pytest.FixtureRequest) -> dict[str, str | None]:
    """The in-process store, or the shared Redis under a prefix of this test's own."""
    if request.param == "memory":
        return {"redis_url": None}
    url, prefix = request.getfixturevalue("redis_namespace")
    return {"redis_url": url, "redis_prefix": prefix}


async def test_a_reused_refresh_token_refuses_the_sessions_access_tokens_at_once(
    start_origin: OriginStarter, migrated_url: str, store_settings: dict[str, str | None]
) -> None:
    async with start_origin(migrated_url, **store_settings) as origin:
        stolen = await origin.new_account(ALICE)
        legitimate = (
            await origin.client.post(
                "/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
            )
        ).json()
        assert (await origin.me(legitimate["access_token"])).status_code == 200

        replay = await origin.client.post(
            "/auth/refresh", json={"refresh_token": stolen["refresh_token"]}
        )

        assert replay.status_code == 400
        assert replay.json()["error"]["code"] == "invalid_grant"
        # Both access tokens of the session are refused now, though neither has expired.
        assert (await origin.me(legitimate["access_token"])).status_code == 401
        assert (await origin.me(stolen["access_token"])).status_code == 401
        successor = await origin.client.post(
            "/auth/refresh", json={"refresh_token": legitimate["refresh_token"]}
        )
        assert successor.status_code == 400


async def test_a_logout_is_seen_by_every_origin_sharing_the_redis(
    start_origin: OriginStarter, migrated_url: str, redis_namespace: tuple[str, str]
) -> None:
    url, prefix = redis_namespace
    async with (
        start_origin(migrated_url, redis_url=url, redis_prefix=prefix) as first,
        start_origin(migrated_url, redis_url=url, redis_prefix=prefix) as second,
    ):
        tokens = await first.new_account(ALICE)
        assert (await second.me(tokens["access_token"])).status_code == 200

        await first.client.post("/auth/logout", headers=bearer(tokens["access_token"]))

        assert (await second.me(tokens["access_token"])).status_code == 401
    client = redis.Redis.from_url(url)
    markers = list(client.scan_iter(match=f"{prefix}*{marker_key('*')}"))
    ttl = client.ttl(markers[0])
    client.close()
    assert len(markers) == 1
    assert 0 < ttl <= 900 + 30  # as long as the session's access tokens can live


async def test_with_redis_down_the_database_answers_for_revocations(
    start_origin: OriginStarter, migrated_url: str, private_redis: RedisServer
) -> None:
    async with (
        start_origin(migrated_url, redis_url=private_redis.url) as first,
        start_origin(migrated_url, redis_url=private_redis.url) as second,
    ):
        before = await first.new_account(ALICE)
        during = await first.new_account("bob@example.com")
        await first.client.post("/auth/logout", headers=bearer(before["access_token"]))

        private_redis.kill()  # the markers are gone with it

        assert (await second.me(before["access_token"])).status_code == 401
        assert (await second.me(during["access_token"])).status_code == 200
        logout = await first.client.post("/auth/logout", headers=bearer(during["access_token"]))
        assert logout.status_code == 204
        assert (await first.me(during["access_token"])).status_code == 401
        assert (await second.me(during["access_token"])).status_code == 401


async def test_a_revocation_made_during_an_outage_reaches_redis_when_it_is_back(
    start_origin: OriginStarter, migrated_url: str, private_redis: RedisServer
) -> None:
    async with (
        start_origin(migrated_url, redis_url=private_redis.url) as first,
        start_origin(migrated_url, redis_url=private_redis.url) as second,
    ):
        tokens = await first.new_account(ALICE)
        private_redis.kill()
        await first.client.post("/auth/logout", headers=bearer(tokens["access_token"]))

        private_redis.start()  # empty: it never saw the revocation
        await asyncio.sleep(1.1)  # the stores' circuit breakers try Redis again after 1 s
        # Any authentication on the first origin writes the markers it kept meanwhile.
        assert (await first.me(tokens["access_token"])).status_code == 401

        assert (await second.me(tokens["access_token"])).status_code == 401
        assert len(list(private_redis.client().scan_iter(match=f"*{marker_key('*')}"))) == 1


async def test_an_origin_starting_against_an_empty_redis_refills_it_from_the_database(
    start_origin: OriginStarter, migrated_url: str, private_redis: RedisServer
) -> None:
    async with start_origin(migrated_url, redis_url=private_redis.url) as first:
        tokens = await first.new_account(ALICE)
        await first.client.post("/auth/logout", headers=bearer(tokens["access_token"]))
    private_redis.kill()
    private_redis.start()  # lost its data

    async with start_origin(migrated_url, redis_url=private_redis.url) as restarted:
        assert len(list(private_redis.client().scan_iter(match=f"*{marker_key('*')}"))) == 1
        assert (await restarted.me(tokens["access_token"])).status_code == 401


async def test_a_revoked_sessions_requests_spend_their_address_budget_not_the_subjects(
    start_origin: OriginStarter, migrated_url: str, store_settings: dict[str, str | None]
) -> None:
    """The rate limiter reads the revocation marker in its own call; a refused caller still
    spends the budget of its address, as any bad credential does, never the account's."""
    # A small budget (one request per 3 s comes back), so a minute's test time shows the spend.
    async with start_origin(migrated_url, rate_limit_per_minute=20, **store_settings) as origin:
        revoked = await origin.new_account(ALICE)
        before = await origin.me(revoked["access_token"])
        await origin.client.post("/auth/logout", headers=bearer(revoked["access_token"]))
        for _ in range(3):
            refused = await origin.me(revoked["access_token"])
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "invalid_token"
        fresh = await origin.sign_in(ALICE)
        after = await origin.me(fresh["access_token"])

    assert after.status_code == 200
    # Alice's budget: spent by the first /auth/me, the logout and this one; the refusals spent
    # the address's.
    assert (
        int(after.headers["ratelimit-remaining"]) == int(before.headers["ratelimit-remaining"]) - 2
    )


async def test_a_marker_read_the_store_did_not_answer_is_judged_by_the_database(
    migrated_url: str,
) -> None:
    # Nothing read means "not revoked" only when the store answered that read; the store's
    # health by the time the verdict is due may be another call's (it is healthy here).
    engine = create_engine(migrated_url)
    store = MemoryStore()
    revocations = RevocationList(store, session_factory(engine), marker_ttl_seconds=900)
    unknown_session = "a-session-the-database-never-had"  # gone counts as revoked
    try:
        assert store.healthy
        assert not await revocations.judge(unknown_session, None, answered=True)
        assert await revocations.judge(unknown_session, None, answered=False)
        assert await revocations.judge(unknown_session, b"1", answered=True)
    finally:
        await engine.dispose()
