from __future__ import annotations

import pytest

from origin.identity.signature import PyJwtSignatureVerifier
from tests.shared.jwt_issuer import ALL_ALGORITHMS, IssuerKey, generate_key


@pytest.fixture(scope="session")
def verifier() -> PyJwtSignatureVerifier:
    """The CPython signature port: the real cryptography behind every shared.jwt test."""
    return PyJwtSignatureVerifier()


@pytest.fixture(scope="session")
def issuer_keys() -> dict[str, IssuerKey]:
    """One fresh key per algorithm, generated once per test run."""
    return {alg: generate_key(alg) for alg in ALL_ALGORITHMS}
