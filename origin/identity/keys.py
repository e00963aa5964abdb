"""The origin's signing keys: a keyring with one current key, rotation with a grace period, JWKS.

A keyring is a small JSON document::

    {"keys": [{"kid": ..., "alg": "ES256", "jwk": {...private JWK...},
               "created_at": 1767225600, "retire_at": null}, ...]}

The newest key without ``retire_at`` signs. Rotation adds a new key and gives every older one a
``retire_at`` one grace period ahead: until then it stays published, so tokens it signed keep
verifying everywhere until they expire; after it, the key leaves the set (and the file, at the
next rotation). This module is pure: reading and writing the document is
:mod:`origin.identity.keyring_file`'s job.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from origin.settings import SettingsError

SUPPORTED_ALGORITHMS = ("ES256", "RS256", "EdDSA", "HS256")
DEFAULT_ALGORITHM = "ES256"
SYMMETRIC_ALGORITHMS = frozenset({"HS256"})
# (kty, crv) each algorithm's keys must have; None: the key type has no curve.
_KEY_TYPES = {
    "ES256": ("EC", "P-256"),
    "RS256": ("RSA", None),
    "EdDSA": ("OKP", "Ed25519"),
    "HS256": ("oct", None),
}
# Public members of each key type; everything else (d, p, q, dp, dq, qi, k) is private.
_PUBLIC_MEMBERS = {
    "EC": ("kty", "crv", "x", "y"),
    "RSA": ("kty", "n", "e"),
    "OKP": ("kty", "crv", "x"),
}
# The member without which a JWK cannot sign.
_PRIVATE_MEMBER = {"EC": "d", "RSA": "d", "OKP": "d", "oct": "k"}
_MAX_KID_LENGTH = 64


class KeyringError(SettingsError):
    """The keyring is missing, unreadable, or has no key that can sign."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    alg: str
    jwk: dict[str, Any] = field(repr=False, compare=False)
    created_at: int
    retire_at: int | None = None

    @property
    def is_symmetric(self) -> bool:
        return self.alg in SYMMETRIC_ALGORITHMS

    def public_jwk(self) -> dict[str, Any]:
        """The key as published in the JWKS; a symmetric key has no public half."""
        if self.is_symmetric:
            raise KeyringError(f"key {self.kid} is symmetric (HS256) and must never be published")
        public = {name: self.jwk[name] for name in _PUBLIC_MEMBERS[self.jwk["kty"]]}
        return {**public, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def verification_jwk(self) -> dict[str, Any]:
        """What the origin itself verifies with: the public JWK, or the secret for HS256."""
        if self.is_symmetric:
            return {"kty": "oct", "k": self.jwk["k"], "kid": self.kid, "alg": self.alg}
        return self.public_jwk()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "alg": self.alg,
            "jwk": self.jwk,
            "created_at": self.created_at,
            "retire_at": self.retire_at,
        }


@dataclass(frozen=True, slots=True)
class Keyring:
    keys: tuple[SigningKey, ...] = ()

    def __post_init__(self) -> None:
        kids = [key.kid for key in self.keys]
        if len(set(kids)) != len(kids):
            raise KeyringError("the keyring holds two keys with the same kid")

    def signing_key(self) -> SigningKey:
        active = [key for key in self.keys if key.retire_at is None]
        if not active:
            raise KeyringError("the keyring has no current key; run: outpost keys rotate")
        return max(active, key=lambda key: key.created_at)

    def verification_keys(self, now: float) -> tuple[SigningKey, ...]:
        """Keys whose tokens are still accepted: the current one and those in their grace period."""
        return tuple(key for key in self.keys if key.retire_at is None or key.retire_at > now)

    def next_retirement(self, now: float) -> float | None:
        """When :meth:`verification_keys` next changes by itself (a grace period ends)."""
        pending = [key.retire_at for key in self.keys if key.retire_at and key.retire_at > now]
        return min(pending, default=None)

    def jwks(self, now: float) -> dict[str, Any]:
        """The public JWK Set: verification keys without the symmetric ones."""
        return {
            "keys": [
                key.public_jwk() for key in self.verification_keys(now) if not key.is_symmetric
            ]
        }

    def rotate(self, new_key: SigningKey, *, now: int, grace_seconds: int) -> Keyring:
        """``new_key`` becomes current; older keys retire after the grace, retired ones leave.

        ``grace_seconds=0`` drops the old keys at once: for a key that leaked, when refusing every
        token it signed matters more than logging everyone out.
        """
        if grace_seconds < 0:
            raise ValueError("grace_seconds must not be negative")
        retire_at = now + grace_seconds
        kept = tuple(
            key if key.retire_at is not None else replace(key, retire_at=retire_at)
            for key in self.verification_keys(now)
        )
        return Keyring(
            (*(key for key in kept if key.retire_at is None or key.retire_at > now), new_key)
        )

    def to_json(self) -> str:
        return json.dumps({"keys": [key.to_dict() for key in self.keys]}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            document = json.loads(text)
            keys = tuple(_signing_key(item) for item in document["keys"])
        except (ValueError, KeyError, TypeError) as error:
            raise KeyringError(f"the keyring is not valid: {error}") from None
        if not keys:
            raise KeyringError("the keyring holds no key; run: outpost keys generate --force")
        return cls(keys)


def generate_key(alg: str = DEFAULT_ALGORITHM, *, now: int) -> SigningKey:
    """A new private key for ``alg`` with a random key id."""
    jwk = _generate_private_jwk(_supported(alg))
    return SigningKey(kid=secrets.token_urlsafe(12), alg=alg, jwk=jwk, created_at=now)


def _generate_private_jwk(alg: str) -> dict[str, Any]:
    # Imported here: the CLI builds its parser from this module and must start instantly.
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm

    jwk: dict[str, Any]
    if alg == "ES256":
        jwk = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()), as_dict=True)
    elif alg == "RS256":
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = RSAAlgorithm.to_jwk(rsa_key, as_dict=True)
    elif alg == "EdDSA":
        jwk = OKPAlgorithm.to_jwk(ed25519.Ed25519PrivateKey.generate(), as_dict=True)
    else:
        jwk = HMACAlgorithm.to_jwk(secrets.token_bytes(32), as_dict=True)
    return jwk


def _signing_key(item: Any) -> SigningKey:
    kid, alg, jwk = item["kid"], _supported(item["alg"]), item["jwk"]
    if not isinstance(kid, str) or not 0 < len(kid) <= _MAX_KID_LENGTH:
        raise ValueError("every key needs a kid of 1 to 64 characters")
    if not isinstance(jwk, dict):
        raise ValueError(f"key {kid}: jwk must be an object")
    kty, crv = _KEY_TYPES[alg]
    if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
        raise ValueError(f"key {kid}: its jwk does not fit {alg}")
    if not isinstance(jwk.get(_PRIVATE_MEMBER[kty]), str):
        raise ValueError(f"key {kid}: the jwk has no private part, so it cannot sign")
    retire_at = item.get("retire_at")
    return SigningKey(
        kid=kid,
        alg=alg,
        jwk=dict(jwk),
        created_at=int(item["created_at"]),
        retire_at=None if retire_at is None else int(retire_at),
    )


def _supported(alg: Any) -> str:
    if alg not in SUPPORTED_ALGORITHMS:
        raise KeyringError(f"algorithm {alg!r} is not supported; use one of {SUPPORTED_ALGORITHMS}")
    assert isinstance(alg, str)
    return alg
