"""The edge's Web Crypto verifier under workerd (Cloudflare's Web Crypto) checks every JWS
algorithm the JWT core knows, against signatures made by PyJWT (an independent implementation),
and refuses the rest."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm, RSAPSSAlgorithm

from edge.runtime.cpython.workerd_host import PROJECT_ROOT
from tests.edge.workerd.probe import running_probe_worker

VERIFIER_WORKER = Path(__file__).with_name("verifier_worker.py")
CLAIMS = {"sub": "user-42", "roles": ["customer"]}
HMAC_SECRET = b"a-test-only-hmac-secret-of-32-bytes!"


def ec_key(curve: ec.EllipticCurve) -> Callable[[], Any]:
    return lambda: ec.generate_private_key(curve)


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# algorithm -> (make a signing key, its public JWK)
SIGNERS: dict[str, tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]] = {
    "ES256": (ec_key(ec.SECP256R1()), lambda k: ECAlgorithm.to_jwk(k.public_key(), as_dict=True)),
    "ES384": (ec_key(ec.SECP384R1()), lambda k: ECAlgorithm.to_jwk(k.public_key(), as_dict=True)),
    "RS256": (rsa_key, lambda k: RSAAlgorithm.to_jwk(k.public_key(), as_dict=True)),
    "PS256": (rsa_key, lambda k: RSAPSSAlgorithm.to_jwk(k.public_key(), as_dict=True)),
    "EdDSA": (
        ed25519.Ed25519PrivateKey.generate,
        lambda k: OKPAlgorithm.to_jwk(k.public_key(), as_dict=True),
    ),
    "HS256": (lambda: HMAC_SECRET, lambda k: HMACAlgorithm.to_jwk(k, as_dict=True)),
}


@pytest.fixture(scope="module")
def verifier() -> Iterator[httpx.Client]:
    with (
        running_probe_worker(VERIFIER_WORKER) as url,
        httpx.Client(base_url=url, timeout=30.0) as client,
    ):
        yield client


def signed(algorithm: str, claims: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    make_key, public_jwk = SIGNERS[algorithm]
    key = make_key()
    jwk = {**public_jwk(key), "kid": f"k-{algorithm.lower()}", "alg": algorithm}
    token = jwt.encode(claims or CLAIMS, key, algorithm=algorithm, headers={"kid": jwk["kid"]})
    return token, jwk


def verdict(client: httpx.Client, token: str, jwk: dict[str, Any]) -> bool:
    response = client.post("/verify", json={"token": token, "jwk": jwk})
    assert response.status_code == 200, response.text
    valid = response.json()["valid"]
    assert isinstance(valid, bool)
    return valid


@pytest.mark.parametrize("algorithm", SIGNERS)
def test_a_genuine_signature_verifies(verifier: httpx.Client, algorithm: str) -> None:
    token, jwk = signed(algorithm)

    assert verdict(verifier, token, jwk) is True


@pytest.mark.parametrize("algorithm", SIGNERS)
def test_a_signature_over_other_claims_is_refused(verifier: httpx.Client, algorithm: str) -> None:
    token, jwk = signed(algorithm)
    header, _, signature = token.split(".")
    other_payload = jwt.encode({"sub": "admin"}, HMAC_SECRET, algorithm="HS256").split(".")[1]

    assert verdict(verifier, f"{header}.{other_payload}.{signature}", jwk) is False


@pytest.mark.parametrize("algorithm", SIGNERS)
def test_a_signature_by_another_key_is_refused(verifier: httpx.Client, algorithm: str) -> None:
    token, _ = signed(algorithm)
    _, other_jwk = signed(algorithm)
    if algorithm == "HS256":
        other_jwk["k"] = "b3RoZXItc2VjcmV0LW9mLWF0LWxlYXN0LTMyLWJ5dGVzLWxvbmch"

    assert verdict(verifier, token, other_jwk) is False


def test_the_same_key_verifies_many_tokens_once_imported(verifier: httpx.Client) -> None:
    make_key, public_jwk = SIGNERS["ES256"]
    key = make_key()
    jwk = {**public_jwk(key), "kid": "reused", "alg": "ES256"}
    tokens = [jwt.encode({"sub": f"user-{i}"}, key, algorithm="ES256") for i in range(5)]

    assert [verdict(verifier, token, jwk) for token in tokens] == [True] * 5


def test_a_point_off_the_curve_is_an_unusable_key(verifier: httpx.Client) -> None:
    token, jwk = signed("ES256")
    jwk["y"] = jwk["x"]  # (x, x) is not on P-256

    response = verifier.post("/verify", json={"token": token, "jwk": jwk})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unusable_key"


def test_the_wheels_target_the_python_the_worker_runs_on(verifier: httpx.Client) -> None:
    # tools/fetch-wheels.sh downloads edge/requirements.txt for one Python version; the vendored
    # packages must be built for the Python that workerd actually runs.
    script = (PROJECT_ROOT / "tools" / "fetch-wheels.sh").read_text(encoding="utf-8")
    wanted = re.search(r"PYTHON_VERSION:-([0-9.]+)", script)

    assert wanted is not None
    assert verifier.get("/runtime").json()["python"] == wanted[1]
