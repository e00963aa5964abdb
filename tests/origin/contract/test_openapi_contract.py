"""The OpenAPI document is the contract the origin keeps, checked by a real fuzzer.

Schemathesis reads ``/openapi.json`` from a real origin over HTTP (tests/origin/live_origin.py)
and calls every operation with requests generated from the document (examples, boundary and
negative coverage, random fuzzing, then linked sequences), as an administrator and as a
customer, each with a real access token, with every check on: no server error; statuses,
content types, headers and bodies as declared; schema-valid requests accepted and invalid ones
refused; no resource available after its deletion or missing after its creation; no route that
declares authentication answering without it; 405 with ``Allow`` for undeclared methods.

Bounded and reproducible: :data:`EXAMPLES` examples per operation and phase, derandomized from
:data:`SEED`. Set ``OUTPOST_CONTRACT_EXAMPLES`` (and ``OUTPOST_CONTRACT_SEED``) to explore more.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis.errors import Flaky
from schemathesis.core.errors import NoLinksFound
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from origin.app import create_app
from origin.settings import Settings
from tests.origin.live_origin import ADMIN, CUSTOMER, EMBARGOED, Account, LiveOrigin, placed_in

EXAMPLES = int(os.environ.get("OUTPOST_CONTRACT_EXAMPLES", "20"))
SEED = int(os.environ.get("OUTPOST_CONTRACT_SEED", "20261207"))
STATEFUL_SCENARIOS = max(5, EXAMPLES // 2)


@dataclass(frozen=True)
class Refusal:
    """How the origin refused a request: which operation, status, error code and field."""

    operation: str
    status: int
    code: str
    field: str | None = None


# Schema-valid requests the origin refuses for a reason JSON Schema cannot state. Each refusal is
# declared in the document (and its rule described there); the fuzzer's positive-data check is
# told about exactly these, by operation, status, error code and field, and about nothing else.
BEYOND_JSON_SCHEMA = {
    # The password policy beyond its length: distinct characters, not the e-mail address.
    Refusal("POST /auth/register", 422, "validation_failed", "password"),
    # Credentials, or a refresh token, that do not exist.
    Refusal("POST /auth/token", 400, "invalid_grant"),
    Refusal("POST /auth/refresh", 400, "invalid_grant"),
    # template:demo-begin
    # A cursor only the server issues.
    Refusal("GET /api/products", 400, "invalid_cursor"),
    Refusal("GET /api/orders", 400, "invalid_cursor"),
    # min_price_cents <= max_price_cents; one line per product; one request body per key.
    Refusal("GET /api/products", 422, "validation_failed", "(body)"),
    Refusal("POST /api/orders", 422, "validation_failed", "(body)"),
    Refusal("POST /api/orders", 422, "idempotency_key_reused"),
    # template:demo-end
}


def refusal_of(operation: str, status: int, body: Any) -> Refusal | None:
    try:
        error = body["error"]
        fields = {problem["field"] for problem in error.get("fields", ())}
        return Refusal(operation, status, error["code"], fields.pop() if len(fields) == 1 else None)
    except (TypeError, KeyError):
        return None


# PENDING ELSEWHERE (input validation, origin/validation.py and the schemas): values the document
# admits that the strict models refuse. Each is tolerated only where the value sent is exactly of
# its kind, until the models accept what the document says (or the document says what they do).
PENDING_ELSEWHERE: dict[str, Callable[[object], bool]] = {
    # ``2.0`` is the integer 2 in JSON Schema; the strict models refuse it (422 ``int_type``).
    "int_type": lambda sent: isinstance(sent, float) and sent.is_integer(),
    # Text of whitespace only meets ``minLength``; the models strip it first and find it empty.
    "string_too_short": lambda sent: isinstance(sent, str) and sent != "" and not sent.strip(),
}
_NOT_SENT = object()


def sent_at(body: object, field: str) -> object:
    """The value the request body held at a refusal's ``field`` (``items.0.quantity``)."""
    value = body
    for part in field.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _NOT_SENT
    return value


def refused_pending_elsewhere(case: schemathesis.Case[Any], status: int, body: Any) -> bool:
    try:
        problems = body["error"]["fields"]
        return (
            status == 422
            and bool(problems)
            and all(
                PENDING_ELSEWHERE[problem["type"]](sent_at(case.body, problem["field"]))
                for problem in problems
            )
        )
    except (TypeError, KeyError):
        return False


def valid_requests_are_accepted(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """Schemathesis's ``positive_data_acceptance``, but for the refusals listed above."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        try:
            body = response.json()
        except ValueError:
            raise
        if refusal_of(case.operation.label, response.status_code, body) in BEYOND_JSON_SCHEMA:
            return None
        if refused_pending_elsewhere(case, response.status_code, body):
            return None
        raise


CHECKS: dict[str, Any] = {
    "excluded_checks": [positive_data_acceptance],
    "additional_checks": [valid_requests_are_accepted],
}


@dataclass(frozen=True)
class Caller:
    """One role's way of calling: its long-lived session, or a new one where the call ends it."""

    live: LiveOrigin
    account: Account
    token: str

    def headers_for(self, case: schemathesis.Case[Any]) -> dict[str, str]:
        token = self.live.sign_in(self.account) if case.path == "/auth/logout" else self.token
        return {"Authorization": f"Bearer {token}"}


ROLES = {"admin": ADMIN, "customer": CUSTOMER}
# The document the app serves, as built with the app (the live origin serves the same one: a test
# below checks it), so that the operations are known when pytest collects the tests.
DOCUMENT = create_app(Settings.from_mapping({})).state.openapi
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # No shrinking: the server's state moves on between attempts, so a shrunk example is not
        # the one that failed (and Hypothesis reports the difference as flakiness).
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",
            "no-shrink": True,
        },
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@pytest.fixture(scope="module", params=sorted(ROLES))
def caller(request: pytest.FixtureRequest, live: LiveOrigin) -> Caller:
    account = ROLES[request.param]
    return Caller(live, account, live.sign_in(account))


def test_the_live_origin_serves_the_document_being_fuzzed(live: LiveOrigin) -> None:
    with live.client() as client:
        assert client.get("/openapi.json").json() == DOCUMENT


@schema.parametrize()
def test_every_operation_keeps_the_contract(case: schemathesis.Case[Any], caller: Caller) -> None:
    case.call_and_validate(
        base_url=caller.live.base_url, headers=caller.headers_for(case), **CHECKS
    )


@pytest.mark.parametrize(
    ("label", "token", "status"),
    [
        ("GET /api/products", False, 451),  # template:demo
        ("GET /api/orders", True, 451),  # template:demo
        ("GET /auth/me", True, 451),
        ("GET /auth/me", False, 401),
        ("GET /metrics", False, 401),
    ],
)
def test_refusals_the_fuzzer_does_not_meet_keep_the_contract_too(
    caller: Caller, label: str, token: bool, status: int
) -> None:
    # Every request the fuzzer sends has a token and no country (the policy refuses only one).
    method, _, path = label.partition(" ")
    headers = placed_in(EMBARGOED, method, path)
    if token:
        headers.update(caller.headers_for(schema[path][method].Case()))
    case = schema[path][method].Case(headers=headers)

    response = case.call_and_validate(base_url=caller.live.base_url, **CHECKS)

    assert response.status_code == status


def test_sequences_of_operations_keep_the_contract(caller: Caller) -> None:
    # Failures are collected, not raised: a raise would make Hypothesis replay the sequence
    # against a server whose state has moved on, and report that instead of the failure.
    failures: list[FailureGroup] = []

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"base_url": caller.live.base_url, "headers": caller.headers_for(case)}

        def validate_response(
            self, response: schemathesis.Response, case: schemathesis.Case[Any], **kwargs: Any
        ) -> None:
            try:
                case.validate_response(
                    response,
                    headers=kwargs.get("headers"),
                    transport_kwargs=kwargs,
                    recorder=self.recorder,
                    **CHECKS,
                )
            except FailureGroup as group:
                failures.append(group)

    try:
        Sequences()
    except NoLinksFound:
        pytest.skip("the document links no operations: there are no sequences to follow")
    settings = hypothesis.settings(
        max_examples=STATEFUL_SCENARIOS,
        derandomize=True,
        database=None,
        phases=[hypothesis.Phase.generate],  # no shrinking, as above
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    with contextlib.suppress(Flaky):
        # Raised when a sequence meets answers other than an earlier one did with the same
        # prefix (the server's state moved on): the end of generation, not a broken contract.
        Sequences.run(settings=settings)

    assert not failures, "\n\n".join(str(group) for group in failures)
