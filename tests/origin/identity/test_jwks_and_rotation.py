"""The published key set, and a key rotation seen by a running origin (CLI + HTTP)."""

from __future__ import annotations

from pathlib import Path

import pytest

from commands import main
from origin.identity.keyring_file import load_keyring, save_keyring
from origin.identity.keys import Keyring, generate_key
from tests.origin.identity.conftest import Clock, OriginStarter, bearer

pytestmark = pytest.mark.anyio


async def test_the_jwks_is_public_cacheable_and_revalidates_with_its_etag(
    start_origin: OriginStarter, migrated_url: str
) -> None:
    async with start_origin(migrated_url) as origin:
        response = await origin.client.get("/.well-known/jwks.json")
        again = await origin.client.get(
            "/.well-known/jwks.json", headers={"If-None-Match": response.headers["etag"]}
        )
        current = origin.identity.keyring.keyring().signing_key()

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    cache_control = response.headers["cache-control"]
    for directive in (
        "public",
        "max-age=300",
        "s-maxage=300",
        "stale-while-revalidate=",
        "stale-if-error=",
    ):
        assert directive in cache_control
    (member,) = response.json()["keys"]
    assert (member["kid"], member["alg"], member["use"]) == (current.kid, "ES256", "sig")
    assert "d" not in member
    assert again.status_code == 304
    assert again.content == b""


async def test_an_hs256_only_keyring_publishes_an_empty_set_yet_verifies(
    start_origin: OriginStarter, migrated_url: str, tmp_path: Path
) -> None:
    keys_file = tmp_path / "hs256.json"
    save_keyring(Keyring((generate_key("HS256", now=0),)), keys_file)
    async with start_origin(migrated_url, signing_keys_file=keys_file) as origin:
        published = (await origin.client.get("/.well-known/jwks.json")).json()
        token = origin.identity.mint(subject="alice", roles=[], session_id=None)
        me = await origin.me(token)

    assert published == {"keys": []}
    assert me.status_code == 200


async def test_tokens_signed_before_a_rotation_verify_until_the_grace_ends(
    start_origin: OriginStarter,
    migrated_url: str,
    clock: Clock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OUTPOST_DATA_DIR", str(tmp_path))  # the CLI and the origin share keys
    async with start_origin(migrated_url) as origin:
        before = origin.identity.mint(subject="alice", roles=[], session_id=None, ttl_seconds=7200)

        assert main(["keys", "rotate"]) == 0  # default grace: 900 s tokens + 30 s leeway

        after = origin.identity.mint(subject="alice", roles=[], session_id=None, ttl_seconds=7200)
        within_grace = (await origin.me(before)).status_code, (await origin.me(after)).status_code
        published_within = len((await origin.client.get("/.well-known/jwks.json")).json()["keys"])

        clock.advance(931)
        past_grace = (await origin.me(before)).status_code, (await origin.me(after)).status_code
        published_after = len((await origin.client.get("/.well-known/jwks.json")).json()["keys"])

    assert within_grace == (200, 200)
    assert published_within == 2
    assert past_grace == (401, 200)
    assert published_after == 1


async def test_a_rotation_without_grace_refuses_the_old_keys_tokens_at_once(
    start_origin: OriginStarter,
    migrated_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OUTPOST_DATA_DIR", str(tmp_path))
    async with start_origin(migrated_url) as origin:
        leaked = origin.identity.mint(subject="alice", roles=["admin"], session_id=None)

        assert main(["keys", "rotate", "--grace-seconds", "0", "--alg", "EdDSA"]) == 0

        refused = await origin.client.get("/auth/me", headers=bearer(leaked))
        fresh = origin.identity.mint(subject="alice", roles=[], session_id=None)
        accepted = await origin.me(fresh)

    assert refused.status_code == 401
    assert accepted.status_code == 200
    assert load_keyring(tmp_path / "keys" / "signing-keys.json").signing_key().alg == "EdDSA"


async def test_a_keyring_lost_at_run_time_is_503_not_a_crash(
    start_origin: OriginStarter, migrated_url: str, tmp_path: Path
) -> None:
    async with start_origin(migrated_url) as origin:
        token = origin.identity.mint(subject="alice", roles=[], session_id=None)
        (tmp_path / "keys" / "signing-keys.json").unlink()

        me = await origin.me(token)
        jwks = await origin.client.get("/.well-known/jwks.json")

    assert (me.status_code, jwks.status_code) == (503, 503)
    assert me.json()["error"]["code"] == jwks.json()["error"]["code"] == "keys_unavailable"
