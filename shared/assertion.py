"""The edge-to-origin trust assertion: what the edge established about a request, HMAC-signed.

The edge verifies the caller's token and looks up the country; the origin must not redo that
work, nor trust a client's own headers for it. So the edge sends one header::

    X-Outpost-Assertion: v2.<kid>.<payload>.<mac>

``payload`` is base64url JSON ``{"m": method, "h": SHA-256 of the path (hex), "s": subject or
null, "r": roles, "i": the token's session (``sid``) or null, "c": country or null, "a": the
client's address or null, "t": issued-at seconds, "n": nonce}``; ``mac`` is base64url
HMAC-SHA256 over ``v2.<kid>.<payload>`` under the secret named ``kid``, so secrets rotate by
adding a kid.

The assertion carries everything the origin needs to decide about the caller, the session
included, so nothing depends on the client's token travelling with it: a client can have the
edge drop any header (``Connection: authorization``), yet the origin still checks the session
against its revocation list.

The path (with its query) is bound by its SHA-256 rather than copied, which keeps the header
small for any URL; the origin recomputes it from the request it received.

Replay detection needs shared state, so it stays with the caller: :func:`verify_assertion`
returns the nonce and the time until which it must be remembered (an atomic ``SET NX`` in Redis).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.b64 import b64url_encode, decode_checked_alphabet
from shared.jwt.claims import SESSION_ID
from shared.principal import Principal

ASSERTION_HEADER = "X-Outpost-Assertion"
VERSION = "v2"
MIN_SECRET_BYTES = 32
MAX_ASSERTION_LENGTH = 4096

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_METHOD = re.compile(r"[A-Z]{1,16}")
_COUNTRY = re.compile(r"[A-Z][A-Z0-9]")
_CLIENT = re.compile(r"[0-9A-Fa-f:.]{2,45}")  # an IPv4 or IPv6 address, as text
_ASSERTION = re.compile(r"v2\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})")
_ANY_VERSION = re.compile(r"v[0-9]+\.")
_PAYLOAD_MEMBERS = frozenset("mhsrictna")
_JSON = json.JSONDecoder()  # stateless; reused to skip json.loads' per-call dispatch


class AssertionErrorReason(StrEnum):
    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_KEY = "unknown_key"
    FORGED = "forged"
    METHOD_MISMATCH = "method_mismatch"
    PATH_MISMATCH = "path_mismatch"
    EXPIRED = "expired"
    FROM_FUTURE = "from_future"


class AssertionInvalid(Exception):
    """An assertion was refused; ``reason`` is for logs, the client gets a plain 401."""

    def __init__(self, reason: AssertionErrorReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Assertion:
    """A verified assertion. ``nonce`` must be refused if seen again before ``nonce_expires_at``."""

    method: str
    path: str
    subject: str | None
    roles: frozenset[str]
    country: str | None
    issued_at: int
    nonce: str
    nonce_expires_at: float
    key_id: str
    client: str | None = None
    """The address the client connected to the edge from (rate limits key on it)."""
    session_id: str | None = None
    """The session of the token the edge verified: the origin checks it is not revoked."""

    def principal(self) -> Principal | None:
        """The caller the edge authenticated, or ``None`` for an anonymous request."""
        if self.subject is None:
            return None
        return Principal(subject=self.subject, roles=self.roles, country=self.country)

    def replay_ttl_seconds(self, now: float) -> int:
        """Whole seconds (at least 1) to remember the nonce, e.g. for Redis ``SET NX EX``."""
        return max(1, math.ceil(self.nonce_expires_at - now))


def valid_address(value: str | None) -> str | None:
    """``value`` as an IP address the assertion can carry, or None when it is not one."""
    if value is None:
        return None
    try:
        address = str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
    return address if _CLIENT.fullmatch(address) else None


def sign_assertion(
    *,
    secret: bytes,
    key_id: str,
    method: str,
    path: str,
    subject: str | None,
    roles: Iterable[str],
    country: str | None,
    issued_at: int,
    nonce: str,
    client: str | None = None,
    session_id: str | None = None,
) -> str:
    """Build the header value. ``nonce`` is random (e.g. ``secrets.token_urlsafe(16)``);
    ``client`` is the address the client connected from, when the edge knows it;
    ``session_id`` is the verified token's ``sid`` claim, when it has one."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"assertion secrets need at least {MIN_SECRET_BYTES} bytes")
    _require(_KEY_ID, key_id, "key_id")
    _require(_METHOD, method, "method")
    _require(_NONCE, nonce, "nonce")
    if country is not None:
        _require(_COUNTRY, country, "country")
    if client is not None:
        _require(_CLIENT, client, "client")
    if session_id is not None:
        _require(SESSION_ID, session_id, "session_id")
        if subject is None:
            raise ValueError("a session belongs to a subject")
    if subject is not None and not subject:
        raise ValueError("subject must be non-empty, or None for an anonymous request")
    if type(issued_at) is not int or issued_at < 0:
        raise ValueError("issued_at must be whole seconds since the epoch")
    claims = {
        "a": client,
        "c": country,
        "h": path_digest(path),
        "i": session_id,
        "m": method,
        "n": nonce,
        "r": sorted(set(roles)),
        "s": subject,
        "t": issued_at,
    }
    payload = b64url_encode(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signed = f"{VERSION}.{key_id}.{payload}"
    return f"{signed}.{_mac(secret, signed)}"


def verify_assertion(
    header: str,
    *,
    secrets: Mapping[str, bytes],
    method: str,
    path: str,
    now: float,
    max_age_seconds: float = 30,
    max_skew_seconds: float = 5,
) -> Assertion:
    """Check the MAC first, then the request binding, then the time window.

    ``secrets`` maps key ids to secrets; during a rotation it holds both the old and the new.
    """
    if not isinstance(header, str) or len(header) > MAX_ASSERTION_LENGTH:
        raise AssertionInvalid(AssertionErrorReason.MALFORMED, "not an assertion")
    match = _ASSERTION.fullmatch(header)
    if match is None:
        if _ANY_VERSION.match(header) and not header.startswith(f"{VERSION}."):
            raise AssertionInvalid(AssertionErrorReason.UNSUPPORTED_VERSION, "unknown version")
        raise AssertionInvalid(AssertionErrorReason.MALFORMED, "not an assertion")
    key_id, payload, mac = match.groups()
    secret = secrets.get(key_id)
    if secret is None:
        raise AssertionInvalid(AssertionErrorReason.UNKNOWN_KEY, "no secret has this key id")
    if not hmac.compare_digest(_mac(secret, header[: match.end(2)]), mac):
        raise AssertionInvalid(AssertionErrorReason.FORGED, "the MAC does not match")
    claims = _decode_payload(payload)
    if claims["m"] != method:
        raise AssertionInvalid(AssertionErrorReason.METHOD_MISMATCH, "signed for another method")
    if claims["h"] != path_digest(path):  # the path is no secret: a plain compare will do
        raise AssertionInvalid(AssertionErrorReason.PATH_MISMATCH, "signed for another path")
    issued_at = claims["t"]
    if issued_at > now + max_skew_seconds:
        raise AssertionInvalid(AssertionErrorReason.FROM_FUTURE, "issued in the future")
    if now - issued_at > max_age_seconds:
        raise AssertionInvalid(AssertionErrorReason.EXPIRED, "too old")
    return Assertion(
        method=method,
        path=path,
        subject=claims["s"],
        roles=frozenset(claims["r"]),
        country=claims["c"],
        issued_at=issued_at,
        nonce=claims["n"],
        nonce_expires_at=issued_at + max_age_seconds,
        key_id=key_id,
        client=claims["a"],
        session_id=claims["i"],
    )


def path_digest(path: str) -> str:
    """What binds an assertion to one request target (path and query, as sent to the origin)."""
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


def _mac(secret: bytes, signed: str) -> str:
    return b64url_encode(hmac.digest(secret, signed.encode("ascii"), "sha256"))


def _decode_payload(payload: str) -> dict[str, Any]:
    """The payload's members, type-checked (a valid MAC with a bad payload is still refused)."""
    try:
        # The pattern has checked the alphabet; decoding to str first spares json its sniffing.
        claims = _JSON.decode(decode_checked_alphabet(payload).decode("utf-8"))
    except ValueError:
        raise AssertionInvalid(AssertionErrorReason.MALFORMED, "payload is not JSON") from None
    if not isinstance(claims, dict) or claims.keys() != _PAYLOAD_MEMBERS:
        raise AssertionInvalid(AssertionErrorReason.MALFORMED, "payload has the wrong members")
    subject, roles, country, client = claims["s"], claims["r"], claims["c"], claims["a"]
    session = claims["i"]
    well_formed = (
        isinstance(claims["m"], str)
        and isinstance(claims["h"], str)
        and isinstance(claims["n"], str)
        and type(claims["t"]) is int
        and (subject is None or (isinstance(subject, str) and subject))
        and (country is None or isinstance(country, str))
        and (client is None or (isinstance(client, str) and _CLIENT.fullmatch(client)))
        and (session is None or (isinstance(session, str) and SESSION_ID.fullmatch(session)))
        and (session is None or subject is not None)
        and isinstance(roles, list)
        and all(isinstance(role, str) for role in roles)
    )
    if not well_formed:
        raise AssertionInvalid(AssertionErrorReason.MALFORMED, "payload members have wrong types")
    return claims


def _require(pattern: re.Pattern[str], value: str, name: str) -> None:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ValueError(f"{name} is not well formed")
