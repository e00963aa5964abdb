"""Build ``corpus.json``: hostile tokens with the reason each must be refused for, plus controls.

Every token is built here from the committed TEST-ONLY keys, deterministically (ECDSA with
RFC 6979 nonces; RSA PKCS#1 v1.5, Ed25519 and HMAC are deterministic anyway), so the committed
file can be checked against this script. Each hostile token has exactly one defect, so the reason
it is refused for is unambiguous. Run ``python -m tests.data.tokens.make_corpus`` to rewrite it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from shared.b64 import b64url_decode, b64url_encode

HERE = Path(__file__).parent
CORPUS_PATH = HERE / "corpus.json"

NOW = 1_750_000_000
ISSUER = "https://outpost.test"
AUDIENCE = "outpost-api"
LEEWAY = 30
ALGORITHMS = ["ES256", "EdDSA", "HS256", "RS256"]

# name -> (file, kid); the first four are in the corpus JWKS, the last two are not.
KEY_FILES = {
    "es256": ("test-only-es256.pem", "test-es256-2025"),
    "rs256": ("test-only-rs256.pem", "test-rs256-2025"),
    "eddsa": ("test-only-eddsa.pem", "test-eddsa-2025"),
    "hs256": ("test-only-hs256.secret", "test-hs256-2025"),
    "other_issuer": ("test-only-other-issuer-es256.pem", "other-issuer-es256"),
    "rotated_out": ("test-only-rotated-out-es256.pem", "test-es256-2024"),
}
PUBLISHED = ("es256", "rs256", "eddsa", "hs256")
ALG_OF = {"es256": "ES256", "rs256": "RS256", "eddsa": "EdDSA", "hs256": "HS256"}
ALG_OF.update(other_issuer="ES256", rotated_out="ES256")

DELETE: Any = object()  # a claim/header value meaning "leave this member out"

BASE_CLAIMS: dict[str, Any] = {
    "iss": ISSUER,
    "aud": AUDIENCE,
    "sub": "user-42",
    "roles": ["customer"],
    "iat": NOW - 60,
    "nbf": NOW - 60,
    "exp": NOW + 840,
    "jti": "corpus-0001",
}


# ---------------------------------------------------------------------------------------- keys


def generate_missing_keys() -> None:
    """Create any key file that is absent (never overwrites: the corpus depends on them)."""
    makers: dict[str, Callable[[], bytes]] = {
        "es256": lambda: _pem(ec.generate_private_key(ec.SECP256R1())),
        "rs256": lambda: _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "eddsa": lambda: _pem(ed25519.Ed25519PrivateKey.generate()),
        "hs256": lambda: b"outpost-TEST-ONLY-hs256-secret-never-use-outside-tests\n",
        "other_issuer": lambda: _pem(ec.generate_private_key(ec.SECP256R1())),
        "rotated_out": lambda: _pem(ec.generate_private_key(ec.SECP256R1())),
    }
    for name, (filename, _) in KEY_FILES.items():
        path = HERE / filename
        if not path.exists():
            path.write_bytes(makers[name]())


def _pem(key: Any) -> bytes:
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem


class CorpusKeys:
    """The committed keys, able to sign deterministically and to publish their public JWKs."""

    def __init__(self) -> None:
        self.private: dict[str, Any] = {}
        for name, (filename, _) in KEY_FILES.items():
            data = (HERE / filename).read_bytes()
            if filename.endswith(".secret"):
                self.private[name] = data.strip()
            else:
                self.private[name] = serialization.load_pem_private_key(data, password=None)

    @staticmethod
    def kid(name: str) -> str:
        return KEY_FILES[name][1]

    def sign(self, name: str, signing_input: bytes) -> bytes:
        key = self.private[name]
        if isinstance(key, bytes):
            return hmac.digest(key, signing_input, "sha256")
        if isinstance(key, ec.EllipticCurvePrivateKey):
            der = key.sign(signing_input, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
            r, s = decode_dss_signature(der)
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        return key.sign(signing_input)

    def der_signature(self, name: str, signing_input: bytes) -> bytes:
        key = self.private[name]
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        der: bytes = key.sign(signing_input, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        return der

    def public_pem(self, name: str) -> bytes:
        pem: bytes = (
            self.private[name]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return pem

    def public_jwk(self, name: str) -> dict[str, Any]:
        key = self.private[name]
        if isinstance(key, bytes):
            jwk: dict[str, Any] = {"kty": "oct", "k": b64url_encode(key)}
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        elif isinstance(key, rsa.RSAPrivateKey):
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid(name), "alg": ALG_OF[name], "use": "sig"}


# -------------------------------------------------------------------------------- token pieces


def claims(**changes: Any) -> dict[str, Any]:
    merged = {**BASE_CLAIMS, **changes}
    return {name: value for name, value in merged.items() if value is not DELETE}


def header(key: str = "es256", **changes: Any) -> dict[str, Any]:
    merged = {"alg": ALG_OF[key], "typ": "JWT", "kid": CorpusKeys.kid(key), **changes}
    return {name: value for name, value in merged.items() if value is not DELETE}


def raw_object(pairs: list[tuple[str, str]]) -> str:
    """JSON object text from (name, raw JSON value) pairs: allows repeats and non-JSON values."""
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in pairs) + "}"


def raw_claims(**raw_values: str) -> str:
    """The base claims as JSON text, with some members' values replaced by raw JSON text."""
    pairs = [(name, json.dumps(value)) for name, value in BASE_CLAIMS.items()]
    return raw_object([(name, raw_values.get(name, value)) for name, value in pairs])


def segment(value: dict[str, Any] | str | bytes) -> str:
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"))
    if isinstance(value, str):
        value = value.encode("utf-8")
    return b64url_encode(value)


class Minter:
    def __init__(self, keys: CorpusKeys) -> None:
        self.keys = keys

    def token(
        self,
        head: dict[str, Any] | str | bytes,
        payload: dict[str, Any] | str | bytes,
        signer: str | None = "es256",
    ) -> str:
        """A compact JWS signed by ``signer``'s key (``None``: empty signature)."""
        signing_input = f"{segment(head)}.{segment(payload)}"
        signature = b"" if signer is None else self.keys.sign(signer, signing_input.encode())
        return f"{signing_input}.{b64url_encode(signature)}"

    def hmac_token(self, head: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
        signing_input = f"{segment(head)}.{segment(payload)}"
        mac = hmac.digest(secret, signing_input.encode(), hashlib.sha256)
        return f"{signing_input}.{b64url_encode(mac)}"

    def valid(self, key: str = "es256", **claim_changes: Any) -> str:
        return self.token(header(key), claims(**claim_changes), key)


def _replace_signature(token: str, signature: bytes) -> str:
    return token.rsplit(".", 1)[0] + "." + b64url_encode(signature)


def _signature(token: str) -> bytes:
    return b64url_decode(token.rsplit(".", 1)[1])


def _one_char_tail(segment_text: str) -> str:
    """Lengthen to 4n+1 characters: a length no byte string encodes to."""
    return segment_text + "A" * ((1 - len(segment_text)) % 4 or 4)


def _non_canonical(segment_text: str) -> str:
    """The same bytes spelled differently: set a spare (padding) bit in the last character."""
    assert len(segment_text) % 4 in (2, 3), "needs a partial tail, which has spare bits"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return segment_text[:-1] + alphabet[alphabet.index(segment_text[-1]) | 1]


# ------------------------------------------------------------------------------------- corpus


def hostile_tokens(mint: Minter) -> list[tuple[str, str, str]]:
    """(name, token, expected reason) for every hostile token."""
    keys = mint.keys
    good = mint.valid()
    good_head, good_payload, good_sig = good.split(".")
    other_token = mint.valid(sub="user-43")
    rsa_pem = keys.public_pem("rs256")
    ec_pem = keys.public_pem("es256")
    attacker_jwk = keys.public_jwk("other_issuer")
    deep = "[" * 2000 + "]" * 2000
    nested_claim = raw_claims(roles="[" * 20 + '"admin"' + "]" * 20)
    return [
        # --- shape and size
        ("empty_string", "", "malformed"),
        ("whitespace_only", "   \t ", "malformed"),
        ("single_segment", good_head, "malformed"),
        ("two_segments", f"{good_head}.{good_payload}", "malformed"),
        ("four_segments", f"{good}.{good_sig}", "malformed"),
        ("six_segments", ".".join([good_head] * 6), "malformed"),
        ("null_byte", "\x00", "malformed"),
        ("unicode_garbage_no_dots", "ünïcødé☃💥", "malformed"),
        ("empty_header_segment", f".{good_payload}.{good_sig}", "malformed"),
        (
            "jwe_five_segments",
            ".".join(
                [segment({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": keys.kid("rs256")})]
                + [b64url_encode(bytes(range(n, n + 16))) for n in (1, 2, 3, 4)]
            ),
            "encrypted",
        ),
        (
            "oversize_payload",
            mint.token(header(), claims(pad="A" * 9000)),
            "too_large",
        ),
        ("oversize_header", mint.token(header(pad="A" * 1200), claims()), "header_too_large"),
        ("kid_very_long", mint.token(header(kid="k" * 900), claims()), "header_too_large"),
        # --- encoding
        ("unicode_garbage_three_parts", "☃.💥.ü", "bad_encoding"),
        (
            "standard_base64_alphabet",
            good_head + "+/." + good_payload + "." + good_sig,
            "bad_encoding",
        ),
        ("padding_present", good + "==", "bad_encoding"),
        ("padding_in_header", f"{good_head}=.{good_payload}.{good_sig}", "bad_encoding"),
        ("bearer_prefix_kept", f"Bearer {good}", "bad_encoding"),
        ("surrounding_whitespace", f" {good} ", "bad_encoding"),
        (
            "line_break_inside",
            f"{good_head}.{good_payload[:10]}\n{good_payload[10:]}.{good_sig}",
            "bad_encoding",
        ),
        (
            "impossible_base64_length",
            f"{good_head}.{good_payload}.{_one_char_tail(good_sig)}",
            "bad_encoding",
        ),
        (
            "non_canonical_signature",
            f"{good_head}.{good_payload}.{_non_canonical(good_sig)}",
            "bad_encoding",
        ),
        # --- JSON
        ("header_not_json", mint.token("not json at all", claims()), "bad_json"),
        ("payload_not_json", mint.token(header(), "{sub: user-42}"), "bad_json"),
        ("header_is_json_string", mint.token('"ES256"', claims()), "bad_json"),
        ("payload_is_json_array", mint.token(header(), '["sub", "user-42"]'), "bad_json"),
        ("payload_nested_arrays", mint.token(header(), deep), "bad_json"),
        ("claim_nested_arrays", mint.token(header(), nested_claim), "bad_json"),
        ("header_utf16", mint.token(json.dumps(header()).encode("utf-16"), claims()), "bad_json"),
        ("payload_invalid_utf8", mint.token(header(), b'{"sub":"\xff\xfe"}'), "bad_json"),
        ("exp_1e400_overflows", mint.token(header(), raw_claims(exp="1e400")), "bad_json"),
        ("exp_nan", mint.token(header(), raw_claims(exp="NaN")), "bad_json"),
        ("exp_infinity", mint.token(header(), raw_claims(exp="Infinity")), "bad_json"),
        ("exp_4000_digits", mint.token(header(), raw_claims(exp="9" * 4000)), "bad_json"),
        (
            "duplicate_sub_claim",
            mint.token(header(), raw_claims()[:-1] + ',"sub":"admin"}'),
            "duplicate_key",
        ),
        (
            "duplicate_exp_claim",
            mint.token(header(), raw_claims()[:-1] + f',"exp":{NOW + 10**8}}}'),
            "duplicate_key",
        ),
        (
            "duplicate_header_alg",
            mint.token(
                raw_object([("alg", '"none"'), ("kid", '"test-es256-2025"'), ("alg", '"ES256"')]),
                claims(),
            ),
            "duplicate_key",
        ),
        # --- header
        ("alg_none", mint.token(header(alg="none"), claims(), None), "alg_not_allowed"),
        ("alg_None", mint.token(header(alg="None"), claims(), None), "alg_not_allowed"),
        ("alg_NONE", mint.token(header(alg="NONE"), claims(), None), "alg_not_allowed"),
        ("alg_nOnE", mint.token(header(alg="nOnE"), claims(), None), "alg_not_allowed"),
        ("alg_none_with_signature", mint.token(header(alg="none"), claims()), "alg_not_allowed"),
        (
            "alg_none_without_kid",
            mint.token(header(alg="none", kid=DELETE), claims(), None),
            "alg_not_allowed",
        ),
        ("alg_HS512_not_configured", mint.token(header(alg="HS512"), claims()), "alg_not_allowed"),
        ("alg_lowercase_es256", mint.token(header(alg="es256"), claims()), "alg_not_allowed"),
        ("alg_missing", mint.token(header(alg=DELETE), claims()), "invalid_header"),
        ("alg_as_list", mint.token(header(alg=["ES256"]), claims()), "invalid_header"),
        ("crit_exp", mint.token(header(crit=["exp"], exp=NOW + 60), claims()), "crit_unsupported"),
        (
            "crit_b64_unencoded_payload",
            mint.token(header(crit=["b64"], b64=False), claims()),
            "crit_unsupported",
        ),
        ("crit_empty_list", mint.token(header(crit=[]), claims()), "crit_unsupported"),
        ("typ_dpop_proof", mint.token(header(typ="dpop+jwt"), claims()), "typ_unsupported"),
        ("typ_jwe", mint.token(header(typ="JWE"), claims()), "typ_unsupported"),
        ("typ_number", mint.token(header(typ=1), claims()), "invalid_header"),
        ("kid_missing", mint.token(header(kid=DELETE), claims()), "kid_missing"),
        ("kid_number", mint.token(header(kid=1), claims()), "invalid_header"),
        # --- key selection
        ("kid_unknown", mint.token(header(kid="no-such-key"), claims()), "unknown_key"),
        (
            "kid_path_traversal",
            mint.token(header(kid="../../../../etc/passwd"), claims()),
            "unknown_key",
        ),
        (
            "kid_sql_injection",
            mint.token(header(kid="' OR '1'='1'; DROP TABLE keys; --"), claims()),
            "unknown_key",
        ),
        ("kid_300_chars", mint.token(header(kid="k" * 300), claims()), "unknown_key"),
        (
            "kid_with_null_byte",
            mint.token(header(kid="test-es256-2025\x00"), claims()),
            "unknown_key",
        ),
        ("kid_case_changed", mint.token(header(kid="TEST-ES256-2025"), claims()), "unknown_key"),
        (
            "key_from_other_issuer",
            mint.token(header("other_issuer"), claims(iss="https://other.example"), "other_issuer"),
            "unknown_key",
        ),
        (
            "rotated_out_key",
            mint.token(header("rotated_out"), claims(), "rotated_out"),
            "unknown_key",
        ),
        (
            "embedded_jwk_header_attacker_kid",
            mint.token(header(kid="attacker", jwk=attacker_jwk), claims(), "other_issuer"),
            "unknown_key",
        ),
        (
            "jku_header_to_attacker_jwks",
            mint.token(
                header(kid="attacker", jku="https://evil.example/jwks.json"),
                claims(),
                "other_issuer",
            ),
            "unknown_key",
        ),
        (
            "hs256_confusion_rsa_public_pem",
            mint.hmac_token(header("rs256", alg="HS256"), claims(), rsa_pem),
            "key_alg_mismatch",
        ),
        (
            "hs256_confusion_ec_public_pem",
            mint.hmac_token(header("es256", alg="HS256"), claims(), ec_pem),
            "key_alg_mismatch",
        ),
        (
            "hs256_confusion_without_kid",
            mint.hmac_token(header("rs256", alg="HS256", kid=DELETE), claims(), rsa_pem),
            "kid_missing",
        ),
        (
            "alg_swapped_to_eddsa_on_ec_key",
            mint.token(header("es256", alg="EdDSA"), claims(), "eddsa"),
            "key_alg_mismatch",
        ),
        (
            "rs256_alg_on_eddsa_key",
            mint.token(header("eddsa", alg="RS256"), claims(), "rs256"),
            "key_alg_mismatch",
        ),
        # --- signature
        ("signature_stripped", f"{good_head}.{good_payload}.", "bad_signature"),
        ("signature_truncated", _replace_signature(good, _signature(good)[:56]), "bad_signature"),
        (
            "signature_of_another_token",
            _replace_signature(good, _signature(other_token)),
            "bad_signature",
        ),
        (
            "payload_tampered",
            f"{good_head}.{segment(claims(roles=['admin']))}.{good_sig}",
            "bad_signature",
        ),
        ("signature_all_zero_psychic", _replace_signature(good, bytes(64)), "bad_signature"),
        (
            "signature_der_encoded",
            _replace_signature(
                good, keys.der_signature("es256", f"{good_head}.{good_payload}".encode())
            ),
            "bad_signature",
        ),
        (
            "hs256_confusion_with_hmac_kid",
            mint.hmac_token(header("hs256"), claims(), rsa_pem),
            "bad_signature",
        ),
        (
            "other_issuer_key_claiming_our_kid",
            mint.token(header("es256"), claims(), "other_issuer"),
            "bad_signature",
        ),
        (
            "embedded_jwk_header_our_kid",
            mint.token(header(jwk=attacker_jwk), claims(), "other_issuer"),
            "bad_signature",
        ),
        (
            "rotated_out_key_claiming_current_kid",
            mint.token(header("es256"), claims(), "rotated_out"),
            "bad_signature",
        ),
        (
            "rs256_signature_flipped_bit",
            _replace_signature(
                mint.valid("rs256"), _flip_last_bit(_signature(mint.valid("rs256")))
            ),
            "bad_signature",
        ),
        (
            "eddsa_signature_flipped_bit",
            _replace_signature(
                mint.valid("eddsa"), _flip_last_bit(_signature(mint.valid("eddsa")))
            ),
            "bad_signature",
        ),
        # --- claims (validly signed: only the claims are wrong)
        ("expired", mint.valid(iat=NOW - 7200, nbf=NOW - 7200, exp=NOW - 3600), "expired"),
        ("expired_at_leeway_edge", mint.valid(exp=NOW - LEEWAY), "expired"),
        ("expired_hs256", mint.valid("hs256", exp=NOW - 3600), "expired"),
        ("not_yet_valid", mint.valid(nbf=NOW + 3600), "not_yet_valid"),
        ("not_yet_valid_past_leeway", mint.valid(nbf=NOW + LEEWAY + 1), "not_yet_valid"),
        ("iat_in_future", mint.valid(iat=NOW + 3600), "issued_in_future"),
        ("missing_exp", mint.valid(exp=DELETE), "missing_expiry"),
        ("exp_as_string", mint.valid(exp=str(NOW + 600)), "invalid_claim"),
        ("exp_as_bool", mint.valid(exp=True), "invalid_claim"),
        ("exp_null", mint.valid(exp=None), "invalid_claim"),
        ("exp_1e30_integer", mint.valid(exp=10**30), "invalid_claim"),
        ("exp_negative", mint.valid(exp=-1), "invalid_claim"),
        ("nbf_as_string", mint.valid(nbf="yesterday"), "invalid_claim"),
        ("iat_as_bool", mint.valid(iat=False), "invalid_claim"),
        ("wrong_issuer", mint.valid(iss="https://evil.example"), "wrong_issuer"),
        ("issuer_trailing_slash", mint.valid(iss=ISSUER + "/"), "wrong_issuer"),
        ("issuer_missing", mint.valid(iss=DELETE), "wrong_issuer"),
        ("issuer_as_list", mint.valid(iss=[ISSUER]), "wrong_issuer"),
        ("wrong_audience", mint.valid(aud="another-api"), "wrong_audience"),
        (
            "audience_list_without_ours",
            mint.valid(aud=["another-api", "third-api"]),
            "wrong_audience",
        ),
        ("audience_empty_list", mint.valid(aud=[]), "wrong_audience"),
        ("audience_missing", mint.valid(aud=DELETE), "wrong_audience"),
        ("audience_prefix_only", mint.valid(aud=AUDIENCE[:-1]), "wrong_audience"),
        ("audience_list_with_number", mint.valid(aud=[AUDIENCE, 7]), "invalid_claim"),
        ("audience_as_object", mint.valid(aud={"aud": AUDIENCE}), "invalid_claim"),
        ("missing_sub", mint.valid(sub=DELETE), "missing_subject"),
        ("empty_sub", mint.valid(sub=""), "missing_subject"),
        ("null_sub", mint.valid(sub=None), "missing_subject"),
        ("numeric_sub", mint.valid(sub=42), "invalid_claim"),
        ("sub_too_long", mint.valid(sub="u" * 256), "invalid_claim"),
        ("roles_as_string", mint.valid(roles="admin"), "invalid_claim"),
        ("roles_with_number", mint.valid(roles=["customer", 1]), "invalid_claim"),
    ]


def _flip_last_bit(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def valid_tokens(mint: Minter) -> list[dict[str, Any]]:
    """Controls: tokens the same policy must accept (a verifier refusing everything fails them)."""
    entries = [
        ("es256", mint.valid("es256"), ["customer"]),
        ("rs256", mint.valid("rs256"), ["customer"]),
        ("eddsa", mint.valid("eddsa"), ["customer"]),
        ("hs256", mint.valid("hs256"), ["customer"]),
        ("typ_at_jwt", mint.token(header(typ="at+jwt"), claims()), ["customer"]),
        (
            "typ_application_at_jwt",
            mint.token(header(typ="application/at+jwt"), claims()),
            ["customer"],
        ),
        ("typ_lowercase_jwt", mint.token(header(typ="jwt"), claims()), ["customer"]),
        ("typ_absent", mint.token(header(typ=DELETE), claims()), ["customer"]),
        ("audience_list_with_ours", mint.valid(aud=["another-api", AUDIENCE]), ["customer"]),
        ("expired_within_leeway", mint.valid(exp=NOW - LEEWAY + 1), ["customer"]),
        ("nbf_within_leeway", mint.valid(nbf=NOW + LEEWAY), ["customer"]),
        ("iat_within_leeway", mint.valid(iat=NOW + LEEWAY), ["customer"]),
        ("float_dates", mint.valid(iat=NOW - 0.5, exp=NOW + 600.25), ["customer"]),
        ("no_roles_claim", mint.valid(roles=DELETE), []),
        ("several_roles", mint.valid(roles=["admin", "customer"]), ["admin", "customer"]),
        (
            "minimal_claims",
            mint.token(header(), claims(iat=DELETE, nbf=DELETE, jti=DELETE, roles=DELETE)),
            [],
        ),
    ]
    return [
        {"name": name, "token": token, "subject": BASE_CLAIMS["sub"], "roles": roles}
        for name, token, roles in entries
    ]


def build_corpus() -> dict[str, Any]:
    keys = CorpusKeys()
    mint = Minter(keys)
    return {
        "about": "TEST FIXTURES ONLY. Built by tests/data/tokens/make_corpus.py; do not edit.",
        "now": NOW,
        "policy": {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "algorithms": ALGORITHMS,
            "leeway_seconds": LEEWAY,
            "max_token_bytes": 8192,
            "max_header_bytes": 1024,
        },
        "allow_symmetric_keys": True,
        "jwks": {"keys": [keys.public_jwk(name) for name in PUBLISHED]},
        "valid": valid_tokens(mint),
        "hostile": [
            {"name": name, "token": token, "reason": reason}
            for name, token, reason in hostile_tokens(mint)
        ],
    }


def render_corpus() -> str:
    return json.dumps(build_corpus(), indent=1, ensure_ascii=True) + "\n"


def main() -> None:
    generate_missing_keys()
    CORPUS_PATH.write_text(render_corpus(), encoding="utf-8")
    print(f"wrote {CORPUS_PATH}")


if __name__ == "__main__":
    main()
