"""Web Crypto under Pyodide: `crypto.subtle.verify` checks the RS256 and ES256 signatures PyJWT
makes, and the Workers-only `crypto.subtle.timingSafeEqual` compares MACs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

CLAIMS = {"sub": "user-42", "iss": "https://origin.example.com", "aud": "outpost"}


PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key: PrivateKey) -> dict[str, Any]:
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        jwk = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    else:
        jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return dict(jwk)


KEY_FACTORIES: dict[str, Callable[[], PrivateKey]] = {"ES256": ec_key, "RS256": rsa_key}


def verify(probe: httpx.Client, token: str, jwk: dict[str, Any]) -> bool:
    response = probe.post("/verify", json={"token": token, "jwk": jwk})
    assert response.status_code == 200, response.text
    valid = response.json()["valid"]
    assert isinstance(valid, bool)
    return valid


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_a_signature_made_by_pyjwt_verifies(probe: httpx.Client, algorithm: str) -> None:
    key = KEY_FACTORIES[algorithm]()
    token = jwt.encode(CLAIMS, key, algorithm=algorithm)

    assert verify(probe, token, public_jwk(key)) is True


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_a_tampered_payload_is_rejected(probe: httpx.Client, algorithm: str) -> None:
    key = KEY_FACTORIES[algorithm]()
    header, _, signature = jwt.encode(CLAIMS, key, algorithm=algorithm).split(".")
    forged_claims = {**CLAIMS, "sub": "admin"}
    forged_payload = jwt.encode(forged_claims, key, algorithm=algorithm).split(".")[1]

    forged = f"{header}.{forged_payload}.{signature}"

    assert verify(probe, forged, public_jwk(key)) is False


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_a_signature_from_another_key_is_rejected(probe: httpx.Client, algorithm: str) -> None:
    signer, other = KEY_FACTORIES[algorithm](), KEY_FACTORIES[algorithm]()
    token = jwt.encode(CLAIMS, signer, algorithm=algorithm)

    assert verify(probe, token, public_jwk(other)) is False


def test_timing_safe_equal_compares_equal_length_buffers(probe: httpx.Client) -> None:
    same = probe.post("/equal", json={"a": "assertion-mac", "b": "assertion-mac"})
    different = probe.post("/equal", json={"a": "assertion-mac", "b": "assertion-mad"})

    assert same.json() == {"equal": True}
    assert different.json() == {"equal": False}


def test_timing_safe_equal_refuses_buffers_of_different_lengths(probe: httpx.Client) -> None:
    response = probe.post("/equal", json={"a": "short", "b": "longer"})

    assert response.status_code == 500
