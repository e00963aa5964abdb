"""Verification keys: JWK parsing (RFC 7517/7518) and selection by ``kid`` and ``alg`` together.

Parsing is pure and a :class:`KeySet` is immutable, so callers parse a JWKS once and reuse it for
every request until the document changes. Only public members are kept: a private member
published by mistake never reaches a verifier.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shared.b64 import b64url_decode
from shared.jwt.errors import TokenErrorReason, TokenInvalid

# crv -> (algorithm, coordinate/signature-half length in bytes)
_EC_CURVES = {"P-256": ("ES256", 32), "P-384": ("ES384", 48)}
_OKP_CURVES = {"Ed25519": ("EdDSA", 32)}
_RSA_ALGORITHMS = frozenset({"RS256", "PS256"})
_MIN_RSA_BITS = 2048
_MIN_HMAC_KEY_BYTES = 32  # RFC 7518 §3.2: at least the hash output size
_MAX_KID_LENGTH = 256


class JwksInvalid(ValueError):
    """The document is not a JWK Set at all (as opposed to holding some unusable keys)."""


class KeyRejected(ValueError):
    """One JWK cannot verify signatures here (wrong use, unsupported type, bad material)."""


@dataclass(frozen=True, slots=True)
class Jwk:
    """A public verification key.

    ``algorithms`` are those the key may verify: just its ``alg`` member when the JWK names one,
    otherwise every algorithm its type and curve allow. ``signature_bytes`` is the exact length of
    a valid signature, so the core refuses wrong-length signatures before any cryptography.
    ``material`` holds the public members (``crv``/``x``/``y``, ``n``/``e`` or ``k``), sorted, so
    equal keys compare and hash equal and ports can cache converted keys per JWK.
    """

    kid: str
    kty: str
    algorithms: frozenset[str]
    signature_bytes: int
    material: tuple[tuple[str, str], ...]

    def member(self, name: str) -> str:
        for key, value in self.material:
            if key == name:
                return value
        raise KeyError(name)

    def to_dict(self) -> dict[str, str]:
        """The key as a public JWK document (what Web Crypto's ``importKey("jwk")`` takes)."""
        return {"kty": self.kty, "kid": self.kid, **dict(self.material)}


@dataclass(frozen=True, slots=True)
class SkippedKey:
    """A member of a JWKS that was left out, and why (for logs)."""

    kid: str | None
    why: str


class KeySet:
    """Keys indexed by ``kid``; a token's key must match its ``kid`` *and* its ``alg``."""

    __slots__ = ("_by_kid", "_keys", "_skipped")

    def __init__(self, keys: Iterable[Jwk] = (), skipped: Iterable[SkippedKey] = ()) -> None:
        by_kid: dict[str, list[Jwk]] = {}
        kept: list[Jwk] = []
        dropped = list(skipped)
        for key in keys:
            same_kid = by_kid.setdefault(key.kid, [])
            if any(other.algorithms & key.algorithms for other in same_kid):
                # Two keys answering the same (kid, alg) would make the choice arbitrary.
                dropped.append(SkippedKey(key.kid, "another key already has this kid and alg"))
                continue
            same_kid.append(key)
            kept.append(key)
        self._by_kid = {kid: tuple(group) for kid, group in by_kid.items() if group}
        self._keys = tuple(kept)
        self._skipped = tuple(dropped)

    @property
    def keys(self) -> tuple[Jwk, ...]:
        return self._keys

    @property
    def skipped(self) -> tuple[SkippedKey, ...]:
        return self._skipped

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[Jwk]:
        return iter(self._keys)

    def select(self, kid: str, alg: str) -> Jwk:
        """The key for this ``kid`` and ``alg``, or :class:`TokenInvalid` naming which is wrong."""
        candidates = self._by_kid.get(kid)
        if candidates is None:
            raise TokenInvalid(TokenErrorReason.UNKNOWN_KEY, "no key has this kid")
        for key in candidates:
            if alg in key.algorithms:
                return key
        raise TokenInvalid(TokenErrorReason.KEY_ALG_MISMATCH, "this kid's key is for another alg")


def parse_jwks(
    document: str | bytes | Mapping[str, Any], *, allow_symmetric: bool = False
) -> KeySet:
    """Parse a JWK Set; members that cannot verify here are listed in ``skipped``, not fatal.

    ``allow_symmetric`` admits ``oct`` (HS256) keys. Leave it off for any JWKS fetched from
    somewhere: a secret published in a JWKS is no secret, and would let anyone mint tokens.
    """
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError:
            raise JwksInvalid("the JWKS is not JSON") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise JwksInvalid('a JWKS is an object with a "keys" array')
    keys: list[Jwk] = []
    skipped: list[SkippedKey] = []
    for member in document["keys"]:
        try:
            keys.append(parse_jwk(member, allow_symmetric=allow_symmetric))
        except KeyRejected as rejected:
            kid = member.get("kid") if isinstance(member, Mapping) else None
            skipped.append(SkippedKey(kid if isinstance(kid, str) else None, str(rejected)))
    return KeySet(keys, skipped)


def parse_jwk(member: Any, *, allow_symmetric: bool = False) -> Jwk:
    """Parse one public JWK, raising :class:`KeyRejected` when it cannot verify signatures."""
    if not isinstance(member, Mapping):
        raise KeyRejected("a JWK is a JSON object")
    kid = member.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= _MAX_KID_LENGTH:
        raise KeyRejected("the key has no usable kid")
    _check_usage(member)
    kty = member.get("kty")
    if kty == "EC":
        algorithms, signature_bytes, material = _ec_key(member)
    elif kty == "RSA":
        algorithms, signature_bytes, material = _rsa_key(member)
    elif kty == "OKP":
        algorithms, signature_bytes, material = _okp_key(member)
    elif kty == "oct":
        if not allow_symmetric:
            raise KeyRejected("symmetric keys are not accepted in this key set")
        algorithms, signature_bytes, material = _oct_key(member)
    else:
        raise KeyRejected("unsupported kty")
    alg = member.get("alg")
    if alg is not None:
        if alg not in algorithms:
            raise KeyRejected("the key's alg does not fit its type")
        algorithms = frozenset({alg})
    return Jwk(kid, kty, algorithms, signature_bytes, tuple(sorted(material.items())))


def _check_usage(member: Mapping[str, Any]) -> None:
    use = member.get("use")
    if use is not None and use != "sig":
        raise KeyRejected("the key is not for signatures")
    key_ops = member.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise KeyRejected("the key's key_ops do not include verify")


_Parsed = tuple[frozenset[str], int, dict[str, str]]


def _ec_key(member: Mapping[str, Any]) -> _Parsed:
    alg, size = _curve(member, _EC_CURVES)
    x, y = _member_bytes(member, "x"), _member_bytes(member, "y")
    if len(x) != size or len(y) != size:
        raise KeyRejected("EC coordinates have the wrong length")
    return frozenset({alg}), 2 * size, _public(member, "crv", "x", "y")


def _rsa_key(member: Mapping[str, Any]) -> _Parsed:
    modulus, exponent = _member_bytes(member, "n"), _member_bytes(member, "e")
    if not modulus or modulus[0] == 0 or not exponent or exponent[0] == 0:
        raise KeyRejected("RSA n and e must be minimal unsigned integers")
    if int.from_bytes(modulus, "big").bit_length() < _MIN_RSA_BITS:
        raise KeyRejected(f"RSA keys need at least {_MIN_RSA_BITS} bits")
    public_exponent = int.from_bytes(exponent, "big")
    if len(exponent) > 8 or public_exponent < 3 or public_exponent % 2 == 0:
        raise KeyRejected("RSA exponent is not usable")
    return _RSA_ALGORITHMS, len(modulus), _public(member, "n", "e")


def _okp_key(member: Mapping[str, Any]) -> _Parsed:
    alg, size = _curve(member, _OKP_CURVES)
    if len(_member_bytes(member, "x")) != size:
        raise KeyRejected("OKP public key has the wrong length")
    return frozenset({alg}), 2 * size, _public(member, "crv", "x")


def _oct_key(member: Mapping[str, Any]) -> _Parsed:
    if len(_member_bytes(member, "k")) < _MIN_HMAC_KEY_BYTES:
        raise KeyRejected(f"HMAC keys need at least {_MIN_HMAC_KEY_BYTES} bytes")
    return frozenset({"HS256"}), 32, _public(member, "k")


def _curve(member: Mapping[str, Any], curves: Mapping[str, tuple[str, int]]) -> tuple[str, int]:
    crv = member.get("crv")
    if not isinstance(crv, str) or crv not in curves:
        raise KeyRejected("unsupported curve")
    return curves[crv]


def _member_bytes(member: Mapping[str, Any], name: str) -> bytes:
    value = member.get(name)
    if not isinstance(value, str):
        raise KeyRejected(f"the key lacks {name}")
    try:
        return b64url_decode(value)
    except ValueError:
        raise KeyRejected(f"{name} is not base64url") from None


def _public(member: Mapping[str, Any], *names: str) -> dict[str, str]:
    return {name: member[name] for name in names}
