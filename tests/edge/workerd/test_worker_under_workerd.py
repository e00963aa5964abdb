"""What only the Cloudflare adapter does, checked on the real worker under workerd in front of a
scripted origin: the country from request.cf, the cache in caches.default, background refreshes
through ctx.waitUntil, bodies that fetch decodes or that are binary. The shared behaviour suite
(tests/edge/behaviour) runs the rest under workerd too (OUTPOST_EDGE_RUNTIMES defaults to
cpython,workerd)."""

from __future__ import annotations

import asyncio
import gzip
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.edge.support.lab import Lab, LabResponse, running_lab
from tests.edge.support.launchers import WorkerdLauncher
from tests.edge.support.origin_server import EDGE_KEY_ID, EDGE_SECRET
from tests.edge.support.tokens import AUDIENCE, ISSUER, corpus_jwks, mint

PUBLIC = ("cache-control", "public, max-age=600")


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab() as server:
        server.set_jwks(corpus_jwks())
        yield server


@pytest.fixture(scope="module")
def launcher() -> WorkerdLauncher:
    return WorkerdLauncher()


def production_env(lab: Lab) -> dict[str, str]:
    return {
        "ORIGIN_URL": lab.base_url,
        "EDGE_MODE": "production",
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWKS_URL": f"{lab.base_url}/.well-known/jwks.json",
        "EDGE_ASSERTION_SECRET": EDGE_SECRET,
        "EDGE_ASSERTION_KEY_ID": EDGE_KEY_ID,
        "EDGE_CACHE_KEY_HOST": "cache.outpost.test",
    }


@pytest.fixture(scope="module")
def edge(lab: Lab, launcher: WorkerdLauncher) -> Iterator[httpx.Client]:
    """A production-mode worker: only request.cf says where a client is."""
    with (
        launcher.start(production_env(lab)) as url,
        httpx.Client(base_url=url, timeout=30.0) as client,
    ):
        yield client


@pytest.fixture
def unique() -> str:
    return secrets.token_hex(6)


def test_in_production_the_country_comes_from_request_cf(
    edge: httpx.Client, launcher: WorkerdLauncher, unique: str
) -> None:
    # Miniflare's per-request request.cf stands in for Cloudflare's IP geolocation; the
    # CF-IPCountry header is a forgery the worker never believes in production.
    located = launcher.geolocated("KP")
    # A named route (shared/policies/routes.json): a path no rule names is forwarded unjudged.
    refused = edge.get("/openapi.json", headers={**located, "CF-IPCountry": "DE"})

    assert refused.status_code == 451
    assert refused.json()["error"]["code"] == "unavailable_for_legal_reasons"


def test_a_cached_response_lives_in_caches_default(
    edge: httpx.Client, lab: Lab, unique: str
) -> None:
    path = lab.script(f"/c/{unique}", LabResponse(200, (PUBLIC,), b"v1"))

    first, second = edge.get(path), edge.get(path)

    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    assert second.text == "v1"
    assert len(lab.received(path)) == 1


def test_a_stale_copy_is_refreshed_through_wait_until(
    edge: httpx.Client, lab: Lab, unique: str
) -> None:
    swr = ("cache-control", "public, max-age=1, stale-while-revalidate=60")
    path = lab.script(
        f"/c/{unique}", LabResponse(200, (swr,), b"v1"), LabResponse(200, (swr,), b"v2")
    )
    edge.get(path)
    time.sleep(1.2)

    stale = edge.get(path)
    # The refresh runs after the answer, in ctx.waitUntil: the copy is replaced shortly after.
    deadline = time.monotonic() + 10
    refreshed = edge.get(path)
    while refreshed.text != "v2" and time.monotonic() < deadline:
        time.sleep(0.1)
        refreshed = edge.get(path)

    assert (stale.headers["x-cache"], stale.text) == ("STALE", "v1")
    assert (refreshed.headers["x-cache"], refreshed.text) == ("HIT", "v2")
    assert len(lab.received(path)) == 2


def test_binary_bodies_cross_the_js_boundary_unchanged(
    edge: httpx.Client, lab: Lab, unique: str
) -> None:
    payload = bytes(range(256)) * 64
    upload_path = f"/upload/{unique}"
    download_path = lab.script(f"/c/{unique}", LabResponse(200, (PUBLIC,), payload))

    edge.post(upload_path, content=payload, headers={"content-type": "application/octet-stream"})
    miss, hit = edge.get(download_path), edge.get(download_path)

    assert lab.received(upload_path)[0].body == payload
    assert (miss.content, hit.content) == (payload, payload)
    assert hit.headers["x-cache"] == "HIT"


def test_a_body_fetch_decompressed_is_served_without_its_old_encoding(
    edge: httpx.Client, lab: Lab, unique: str
) -> None:
    text = b"outpost catalog " * 200
    gzipped = ("content-encoding", "gzip")
    path = lab.script(f"/c/{unique}", LabResponse(200, (PUBLIC, gzipped), gzip.compress(text)))

    miss = edge.get(path, headers={"Accept-Encoding": "identity"})
    hit = edge.get(path, headers={"Accept-Encoding": "identity"})
    compressed = edge.get(path, headers={"Accept-Encoding": "gzip"})

    assert (miss.content, hit.content) == (text, text)
    assert "content-encoding" not in miss.headers
    assert "content-encoding" not in hit.headers
    assert hit.headers["x-cache"] == "HIT"
    # Compressing for a client that accepts it is the runtime's own work, as on Cloudflare.
    assert compressed.content == text


def test_an_authenticated_read_pays_web_crypto_and_is_forwarded_with_its_subject(
    edge: httpx.Client, lab: Lab, unique: str
) -> None:
    path = f"/auth/{unique}"

    response = edge.get(path, headers={"Authorization": f"Bearer {mint('alice', 'customer')}"})

    assert response.status_code == 200
    assert "edge-auth" in response.headers["server-timing"]
    assert lab.received(path)[0].header("x-outpost-assertion") is not None


def test_concurrent_first_requests_with_tokens_are_all_answered(
    lab: Lab, launcher: WorkerdLauncher, unique: str
) -> None:
    # A new isolate has no keys yet: every request needs the JWKS at once. A request waiting
    # for the fetch another request started is cancelled by workerd as hung (a 500).
    token = mint("alice", "customer")

    async def all_at_once(url: str) -> list[int]:
        async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
            answers = await asyncio.gather(
                *(
                    client.get(f"/auth/{unique}-{i}", headers={"Authorization": f"Bearer {token}"})
                    for i in range(8)
                )
            )
        return [answer.status_code for answer in answers]

    with launcher.start(production_env(lab)) as url:
        statuses = asyncio.run(all_at_once(url))

    assert statuses == [200] * 8
