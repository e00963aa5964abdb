"""Per-request cost of verifying a token, per algorithm, and of the edge-to-origin assertion.

The origin's own verifier (``TokenVerifier``, ES256 keyring) runs twice side by side: a token seen
for the first time (two tokens alternating through a one-entry memory, so every call misses and
pays the digest and the bookkeeping too) and the same token again (remembered: no signature check).

Every case runs in the same process, in interleaved rounds (so drift in CPU speed hits all cases
alike); the figure is the median over rounds of the mean cost per call within a round. Costs are
CPU time of this process (not wall time), so other load on the machine inflates them less.

    .venv/bin/python benchmarks/verify_tokens.py [--rounds 9] [--iterations 400]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from origin.identity.keyring_file import KeyringSource, save_keyring
from origin.identity.keys import Keyring, generate_key
from origin.identity.signature import PyJwtSignatureVerifier
from origin.identity.tokens import TokenPolicy, mint_access_token
from origin.identity.verification import TokenVerifier
from origin.identity.verified_tokens import VerifiedTokens
from shared.assertion import sign_assertion, verify_assertion
from shared.b64 import b64url_encode
from shared.jwt import VerificationPolicy, decode_unverified, parse_jwks, verify_token

ISSUER = "https://bench.outpost.test"
AUDIENCE = "outpost-api"
ALGORITHMS = ("HS256", "RS256", "ES256", "EdDSA")
ASSERTION_SECRET = b"benchmark-only-assertion-secret-0123456789"

Case = Callable[[], Awaitable[Any]]


def make_private_key(alg: str) -> Any:
    if alg == "HS256":
        return b"benchmark-only-hmac-secret-0123456789abcdef"
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def public_jwk(alg: str, private: Any) -> dict[str, Any]:
    if alg == "HS256":
        jwk: dict[str, Any] = {"kty": "oct", "k": b64url_encode(private)}
    elif alg == "RS256":
        jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif alg == "ES256":
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": f"bench-{alg.lower()}", "alg": alg, "use": "sig"}


ORIGIN_FIRST_SIGHT = "ES256 origin TokenVerifier, first sight"
ORIGIN_REMEMBERED = "ES256 origin TokenVerifier, remembered"


def origin_verifier_cases(keys_dir: Path, now: float) -> dict[str, Case]:
    """The origin's verifier over a keyring file: tokens seen first, and seen again."""
    key = generate_key("ES256", now=int(now))
    save_keyring(Keyring((key,)), keys_dir / "keys.json")
    policy = TokenPolicy(issuer=ISSUER, audience=AUDIENCE)

    def verifier(remembered: int) -> TokenVerifier:
        return TokenVerifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway_seconds=30,
            keyring=KeyringSource(keys_dir / "keys.json"),
            signatures=PyJwtSignatureVerifier(),
            verified=VerifiedTokens(remembered),
        )

    def token(subject: str) -> str:
        return mint_access_token(
            key, policy, subject=subject, roles=["customer"], session_id="s1", now=int(now)
        )

    alternating = itertools.cycle([token("user-1"), token("user-2")])
    forgetful, remembering = verifier(1), verifier(16)
    same = token("user-1")

    async def first_sight() -> Any:
        return await forgetful.verify(next(alternating), now=now)

    async def remembered() -> Any:
        return await remembering.verify(same, now=now)

    return {ORIGIN_FIRST_SIGHT: first_sight, ORIGIN_REMEMBERED: remembered}


def build_cases(now: float) -> dict[str, Case]:
    private_keys = {alg: make_private_key(alg) for alg in ALGORITHMS}
    keys = parse_jwks(
        {"keys": [public_jwk(alg, key) for alg, key in private_keys.items()]},
        allow_symmetric=True,
    )
    policy = VerificationPolicy(issuer=ISSUER, audience=AUDIENCE, algorithms=frozenset(ALGORITHMS))
    verifier = PyJwtSignatureVerifier()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "roles": ["customer"],
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + 900,
        "jti": "bench",
    }
    cases: dict[str, Case] = {}
    for alg, private in private_keys.items():
        headers = {"kid": f"bench-{alg.lower()}", "typ": "at+jwt"}
        token = jwt.encode(claims, private, algorithm=alg, headers=headers)
        verifying_key = private if alg == "HS256" else private.public_key()
        cases[f"{alg} shared.jwt + PyJWT port"] = _core_case(token, policy, keys, verifier, now)
        cases[f"{alg} PyJWT jwt.decode"] = _pyjwt_case(token, verifying_key, alg)
    es256_token = jwt.encode(claims, private_keys["ES256"], algorithm="ES256", headers=headers)
    cases["parse only (decode_unverified)"] = _sync_case(lambda: decode_unverified(es256_token))
    header = sign_assertion(
        secret=ASSERTION_SECRET,
        key_id="bench",
        method="GET",
        path="/api/orders?page=2",
        subject="user-1",
        roles=["customer"],
        country="DE",
        issued_at=int(now),
        nonce="bench-nonce-0123456789",
    )
    cases["assertion verify (HMAC-SHA256)"] = _sync_case(
        lambda: verify_assertion(
            header,
            secrets={"bench": ASSERTION_SECRET},
            method="GET",
            path="/api/orders?page=2",
            now=now,
        )
    )
    return cases


def _core_case(
    token: str, policy: VerificationPolicy, keys: Any, verifier: PyJwtSignatureVerifier, now: float
) -> Case:
    async def run() -> Any:
        return await verify_token(token, policy=policy, keys=keys, verifier=verifier, now=now)

    return run


def _pyjwt_case(token: str, key: Any, alg: str) -> Case:
    async def run() -> Any:
        return jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )

    return run


def _sync_case(function: Callable[[], Any]) -> Case:
    async def run() -> Any:
        return function()

    return run


async def measure(cases: dict[str, Case], rounds: int, iterations: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for case in cases.values():  # warm-up: load keys into caches, first-call costs
        for _ in range(20):
            await case()
    for _ in range(rounds):
        for name, case in cases.items():
            started = time.process_time_ns()
            for _ in range(iterations):
                await case()
            samples[name].append((time.process_time_ns() - started) / iterations / 1000)
    return samples


def report(samples: dict[str, list[float]]) -> None:
    width = max(len(name) for name in samples)
    print(f"{'case':<{width}}  {'median us':>10}  {'min us':>8}")
    for name, values in samples.items():
        print(f"{name:<{width}}  {statistics.median(values):>10.1f}  {min(values):>8.1f}")
    assertion = statistics.median(samples["assertion verify (HMAC-SHA256)"])
    es256 = statistics.median(samples["ES256 shared.jwt + PyJWT port"])
    print(f"\nassertion / ES256 (shared.jwt) = {assertion / es256:.3f}  (target < 0.2)")
    first_sight = statistics.median(samples[ORIGIN_FIRST_SIGHT])
    remembered = statistics.median(samples[ORIGIN_REMEMBERED])
    print(f"origin verifier, remembered / first sight = {remembered / first_sight:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--iterations", type=int, default=400)
    arguments = parser.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory() as keys_dir:
        cases = {**build_cases(now), **origin_verifier_cases(Path(keys_dir), now)}
        samples = asyncio.run(measure(cases, arguments.rounds, arguments.iterations))
    report(samples)


if __name__ == "__main__":
    main()
