"""The hostile-token corpus: data shared by the origin's and the edge's test suites.

``corpus.json`` holds the policy, the JWKS, the fixed ``now`` and the tokens; ``make_corpus.py``
rebuilds it from the committed test keys. This loader uses only the standard library and
``shared``, so it runs under Pyodide as well as CPython.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.jwt import KeySet, TokenErrorReason, VerificationPolicy, parse_jwks

CORPUS_PATH = Path(__file__).with_name("corpus.json")


@dataclass(frozen=True, slots=True)
class HostileToken:
    name: str
    token: str
    reason: TokenErrorReason


@dataclass(frozen=True, slots=True)
class ValidToken:
    name: str
    token: str
    subject: str
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class Corpus:
    now: float
    policy: VerificationPolicy
    keys: KeySet
    valid: tuple[ValidToken, ...]
    hostile: tuple[HostileToken, ...]


def load_corpus(path: Path = CORPUS_PATH) -> Corpus:
    return corpus_from_document(json.loads(path.read_text(encoding="utf-8")))


def corpus_from_document(document: Mapping[str, Any]) -> Corpus:
    policy = document["policy"]
    return Corpus(
        now=document["now"],
        policy=VerificationPolicy(
            issuer=policy["issuer"],
            audience=policy["audience"],
            algorithms=frozenset(policy["algorithms"]),
            leeway_seconds=policy["leeway_seconds"],
            max_token_bytes=policy["max_token_bytes"],
            max_header_bytes=policy["max_header_bytes"],
        ),
        keys=parse_jwks(document["jwks"], allow_symmetric=document["allow_symmetric_keys"]),
        valid=tuple(
            ValidToken(item["name"], item["token"], item["subject"], frozenset(item["roles"]))
            for item in document["valid"]
        ),
        hostile=tuple(
            HostileToken(item["name"], item["token"], TokenErrorReason(item["reason"]))
            for item in document["hostile"]
        ),
    )
