"""A cached read costs one call to Redis: the rate limiter's script reads the cached answer in
the same call that spends the request's budget. Watched with Redis's own MONITOR."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio

from tests.origin.conftest import AppClient
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio
BEGIN, END = "outpost-test-begin", "outpost-test-end"


async def client_commands_between_markers(monitor: Any) -> list[str]:
    """The commands clients sent (not those a script ran) between the two ECHO markers."""
    seen: list[str] = []
    inside = False
    while True:
        entry = await asyncio.wait_for(monitor.next_command(), timeout=10)
        command = entry["command"]
        if command == f"ECHO {BEGIN}":
            inside = True
        elif command == f"ECHO {END}":
            return seen
        elif inside and entry.get("client_type") != "lua":
            seen.append(command.split()[0].upper())


async def test_a_cached_product_read_is_one_redis_call(
    app_client: AppClient, seeded_url: str, private_redis: RedisServer
) -> None:
    watcher = redis.asyncio.Redis.from_url(private_redis.url, decode_responses=True)
    marker = redis.asyncio.Redis.from_url(private_redis.url)
    try:
        async with app_client(seeded_url, redis_url=private_redis.url) as client:
            await client.get("/api/products/1")  # MISS: rendered and stored
            async with watcher.monitor() as monitor:
                await marker.echo(BEGIN)
                hit = await client.get("/api/products/1")
                await marker.echo(END)
                commands = await client_commands_between_markers(monitor)
    finally:
        await watcher.aclose()
        await marker.aclose()

    assert hit.headers["x-origin-cache"] == "HIT"
    assert hit.headers["ratelimit-remaining"].isdigit()
    assert commands == ["EVALSHA"]
