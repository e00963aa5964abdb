"""The hostile-token corpus (tests/data/tokens) through the origin's HTTP path.

The origin is configured as the corpus's issuer, with the corpus's keys in its keyring and its
clock at the corpus's ``now``. Every hostile token must get the same 401 with
``WWW-Authenticate: Bearer error="invalid_token"``, quickly, and never a 500; the valid controls
must pass, which shows the 401s come from the checks and not from a misconfigured origin.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from origin.identity.keyring_file import save_keyring
from origin.identity.keys import Keyring, SigningKey
from tests.data.tokens import CORPUS_PATH, load_corpus
from tests.origin.identity.conftest import Clock, OriginStarter

pytestmark = pytest.mark.anyio

CORPUS = load_corpus()
DOCUMENT = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))
PEM_OF_KID: dict[str, tuple[str, Any]] = {
    "test-es256-2025": ("test-only-es256.pem", ECAlgorithm),
    "test-rs256-2025": ("test-only-rs256.pem", RSAAlgorithm),
    "test-eddsa-2025": ("test-only-eddsa.pem", OKPAlgorithm),
}
SLOW_SECONDS = 0.25


def corpus_keyring() -> Keyring:
    """The corpus's published keys, with their private halves, as an origin keyring."""
    keys = []
    for member in DOCUMENT["jwks"]["keys"]:
        kid, alg = member["kid"], member["alg"]
        if kid in PEM_OF_KID:
            filename, algorithm = PEM_OF_KID[kid]
            pem = (CORPUS_PATH.parent / filename).read_bytes()
            jwk: dict[str, Any] = algorithm.to_jwk(
                load_pem_private_key(pem, password=None), as_dict=True
            )
        else:  # the HS256 member carries its secret already
            jwk = {"kty": member["kty"], "k": member["k"]}
        keys.append(SigningKey(kid=kid, alg=alg, jwk=jwk, created_at=0))
    return Keyring(tuple(keys))


@pytest.fixture
def corpus_origin_settings(tmp_path: Path, clock: Clock) -> dict[str, Any]:
    keys_file = tmp_path / "corpus-keys.json"
    save_keyring(corpus_keyring(), keys_file)
    clock.now = CORPUS.now
    return {
        "jwt_issuer": CORPUS.policy.issuer,
        "jwt_audience": CORPUS.policy.audience,
        "jwt_leeway_seconds": int(CORPUS.policy.leeway_seconds),
        "signing_keys_file": keys_file,
    }


def authorization(token: str) -> list[tuple[bytes, bytes]]:
    # Raw bytes: some tokens hold characters an HTTP client would refuse to build a header from.
    return [(b"authorization", b"Bearer " + token.encode("utf-8", "surrogateescape"))]


async def test_every_hostile_token_gets_the_uniform_401_quickly(
    start_origin: OriginStarter, migrated_url: str, corpus_origin_settings: dict[str, Any]
) -> None:
    assert len(CORPUS.hostile) >= 40
    answers = {}
    slowest = 0.0
    async with start_origin(migrated_url, **corpus_origin_settings) as origin:
        for hostile in CORPUS.hostile:
            started = time.perf_counter()
            response = await origin.client.get("/auth/me", headers=authorization(hostile.token))
            slowest = max(slowest, time.perf_counter() - started)
            answers[hostile.name] = (
                response.status_code,
                response.headers.get("www-authenticate", ""),
                response.json(),
            )

    wrong = {
        name: answer
        for name, answer in answers.items()
        if answer[0] != 401 or not answer[1].startswith('Bearer error="invalid_token"')
    }
    assert wrong == {}
    bodies = {json.dumps(body, sort_keys=True) for _, _, body in answers.values()}
    assert len(bodies) == 1  # one message for every reason: the reason is for the logs only
    assert slowest < SLOW_SECONDS


async def test_the_corpus_controls_are_accepted_by_the_same_origin(
    start_origin: OriginStarter, migrated_url: str, corpus_origin_settings: dict[str, Any]
) -> None:
    async with start_origin(migrated_url, **corpus_origin_settings) as origin:
        answers = {
            valid.name: await origin.client.get("/auth/me", headers=authorization(valid.token))
            for valid in CORPUS.valid
        }

    for valid in CORPUS.valid:
        answer = answers[valid.name]
        assert answer.status_code == 200, valid.name
        assert answer.json()["subject"] == valid.subject
        assert set(answer.json()["roles"]) == valid.roles


async def test_the_corpus_hs256_secret_never_reaches_the_published_jwks(
    start_origin: OriginStarter, migrated_url: str, corpus_origin_settings: dict[str, Any]
) -> None:
    async with start_origin(migrated_url, **corpus_origin_settings) as origin:
        published = (await origin.client.get("/.well-known/jwks.json")).json()

    kids = {member["kid"] for member in published["keys"]}
    assert kids == set(PEM_OF_KID)
    assert all("d" not in member and "k" not in member for member in published["keys"])


async def test_random_credentials_never_get_anything_but_a_401(
    start_origin: OriginStarter, migrated_url: str, corpus_origin_settings: dict[str, Any]
) -> None:
    generator = random.Random(20250101)
    alphabet = b'ABCXYZabcxyz0189-_.=+/ \t\x00\x7f\xff{}":'

    def noise() -> bytes:
        return bytes(generator.choice(alphabet) for _ in range(generator.randrange(0, 300)))

    statuses = set()
    async with start_origin(migrated_url, **corpus_origin_settings) as origin:
        for _ in range(200):
            as_token = [(b"authorization", b"Bearer " + noise())]
            as_assertion = [(b"x-outpost-assertion", b"v1." + noise())]
            for headers in (as_token, as_assertion):
                statuses.add((await origin.client.get("/auth/me", headers=headers)).status_code)

    assert statuses == {401}
