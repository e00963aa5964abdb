"""The CPython runtime's other ports: geolocation by mode, background work awaited at shutdown,
and the choice of upstream client."""

from __future__ import annotations

import asyncio
import logging

import pytest

from edge.config import ConfigError, EdgeConfig
from edge.http import EdgeRequest, Headers
from edge.runtime.cpython.http1 import PooledHttp1Upstream
from edge.runtime.cpython.runtime import (
    AsyncioBackground,
    HeaderGeolocator,
    HttpxUpstream,
    NoGeolocator,
    cpython_runtime,
)
from shared.geofence import Location

CONFIG = EdgeConfig.from_env({"ORIGIN_URL": "http://127.0.0.1:9", "EDGE_MODE": "local"})


def edge_request(**headers: str) -> EdgeRequest:
    return EdgeRequest("GET", "/", Headers(headers.items()))


def test_local_mode_takes_the_country_from_cf_ipcountry() -> None:
    located = HeaderGeolocator().locate(edge_request(**{"cf-ipcountry": "fr"}))

    assert located == Location("FR", "EU", True)
    assert HeaderGeolocator().locate(edge_request()).country is None
    assert HeaderGeolocator().locate(edge_request(**{"cf-ipcountry": "Narnia"})).country is None


def test_production_mode_on_cpython_never_trusts_a_header() -> None:
    assert NoGeolocator().locate(edge_request(**{"cf-ipcountry": "DE"})) == Location(None)


@pytest.mark.anyio
async def test_the_geolocator_follows_the_mode() -> None:
    production = EdgeConfig.from_env({**_env(), "EDGE_MODE": "production"})
    async with cpython_runtime(CONFIG) as local, cpython_runtime(production) as remote:
        assert isinstance(local.geolocator, HeaderGeolocator)
        assert isinstance(remote.geolocator, NoGeolocator)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "kind"), [("http1", PooledHttp1Upstream), ("httpx", HttpxUpstream)]
)
async def test_the_upstream_client_is_chosen_by_configuration(name: str, kind: type) -> None:
    async with cpython_runtime(CONFIG, {"EDGE_UPSTREAM_CLIENT": name}) as runtime:
        assert isinstance(runtime.upstream, kind)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"EDGE_UPSTREAM_CLIENT": "curl"}, "http1 or httpx"),
        ({"EDGE_CACHE_MAX_ENTRIES": "0"}, "positive"),
        ({"EDGE_CACHE_MAX_BYTES": "lots"}, "whole number"),
    ],
)
async def test_bad_runtime_settings_are_refused(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        async with cpython_runtime(CONFIG, env):
            pass


@pytest.mark.anyio
async def test_background_work_is_awaited_at_shutdown_and_failures_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    background = AsyncioBackground()
    finished: list[str] = []

    async def slow() -> None:
        await asyncio.sleep(0.05)
        finished.append("slow")

    async def failing() -> None:
        raise RuntimeError("refresh failed")

    with caplog.at_level(logging.ERROR, logger="outpost.edge"):
        background.run(slow())
        background.run(failing())
        assert background.pending == 2
        await background.drain()

    assert finished == ["slow"]
    assert background.pending == 0
    assert "background work failed" in caplog.text


def _env() -> dict[str, str]:
    return {"ORIGIN_URL": "http://127.0.0.1:9", "EDGE_ASSERTION_SECRET": "s" * 32}
