"""Sending the hostile input of tests/data/hostile to the origin, and judging its answers.

A :class:`Slot` is one place a client puts a value (a JSON field, a query parameter, a form
field, a path segment of a route); :func:`slot_problems` sends it every hostile value that fits
and returns what went wrong: anything but a 4xx JSON error, a 422 that does not name the field,
a path id that is not a 404. The route suites (tests/origin/*/test_hostile_input.py) hold the
tables of slots.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from tests.data.hostile import (
    HostileString,
    hostile_numbers,
    hostile_strings,
    nested_documents,
)
from tests.origin.conftest import Caller

Where = Literal["json", "query", "form", "path"]
Who = Literal["anyone", "admin", "customer"]
_PLACEHOLDER = "__hostile__"


@dataclass(frozen=True)
class Slot:
    """``field`` of ``where`` in a request to ``path``, which holds ``{value}`` for a path slot.

    ``base`` is the rest of a request that would be accepted (a nested field is a dotted path
    into it, ``items.0.quantity``); ``who`` is the caller the request needs to get that far.
    A hostile string is sent as ``embed`` with the string at ``{}``: inside an otherwise valid
    e-mail address, so that what refuses it is the check for the string, not a missing ``@``.
    """

    method: str
    path: str
    where: Where
    field: str
    kind: Literal["text", "number"]
    base: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    who: Who = "anyone"
    embed: str = "{}"

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.field}"


@dataclass(frozen=True)
class Case:
    """A hostile value: ``literal`` to write into a JSON body, ``text`` to send anywhere else."""

    name: str
    literal: str | None
    text: str | None


def cases_for(slot: Slot) -> list[Case]:
    """Every hostile string a client can deliver to the slot, and the numbers for a number."""
    transport = "query" if slot.where == "path" else slot.where
    cases = [_string_case(slot, case) for case in hostile_strings() if transport in case.transports]
    if slot.kind == "number":
        cases += [Case(case.name, case.json, case.text) for case in hostile_numbers()]
    if slot.where == "json":
        return [case for case in cases if case.literal is not None]
    return [case for case in cases if case.text is not None]


def _string_case(slot: Slot, case: HostileString) -> Case:
    text = slot.embed.format(case.value)
    return Case(case.name, json.dumps(text), text)


def become(caller: Caller, who: Who) -> None:
    if who == "admin":
        caller.becomes("ada", "admin")
    elif who == "customer":
        caller.becomes("bob", "customer")
    else:
        caller.leaves()


async def slot_problems(client: httpx.AsyncClient, caller: Caller, slot: Slot) -> list[str]:
    """What went wrong with the answers to the slot's hostile values (empty: nothing), sent
    as the caller the slot needs."""
    become(caller, slot.who)
    problems = []
    for case in cases_for(slot):
        response = await send(client, slot, case)
        problem = refusal_problem(slot, response)
        if problem is not None:
            problems.append(f"{case.name}: {problem}")
    return problems


async def nesting_problems(client: httpx.AsyncClient, method: str, path: str) -> list[str]:
    """What went wrong with the answers to the deeply nested documents, sent as the whole body
    and as the value of a field: anything but a 400 JSON error."""
    problems = []
    for document in nested_documents():
        for body in (document.text, '{"items": ' + document.text + "}"):
            response = await client.request(
                method,
                path,
                content=body.encode(),
                headers={"Content-Type": "application/json", "Idempotency-Key": "nested"},
            )
            if response.status_code != 400 or _error_of(response) is None:
                problems.append(f"{document.name}: {response.status_code} {response.text[:120]}")
    return problems


async def send(client: httpx.AsyncClient, slot: Slot, case: Case) -> httpx.Response:
    headers = {"Idempotency-Key": secrets.token_hex(8)}
    if slot.where == "json":
        assert case.literal is not None
        body = _with_literal(slot.base, slot.field, case.literal)
        headers["Content-Type"] = "application/json"
        return await client.request(slot.method, slot.path, content=body, headers=headers)
    assert case.text is not None
    if slot.where == "query":
        params = {**slot.base, slot.field: case.text}
        return await client.request(slot.method, slot.path, params=params, headers=headers)
    if slot.where == "form":
        data = {**slot.base, slot.field: case.text}
        return await client.request(slot.method, slot.path, data=data, headers=headers)
    path = slot.path.replace("{value}", quote(case.text, safe=""))
    return await client.request(slot.method, path, headers=headers)


def refusal_problem(slot: Slot, response: httpx.Response) -> str | None:
    """What is wrong with the answer to a hostile request; ``None`` when it is a proper 4xx."""
    if not 400 <= response.status_code < 500:
        return f"{response.status_code} {response.text[:160]}"
    error = _error_of(response)
    if error is None:
        return f"{response.status_code} without the JSON error body: {response.text[:160]}"
    if slot.where == "path" and response.status_code != 404:
        return f"{response.status_code} for a path id that names no row (want 404)"
    if response.status_code == 422 and slot.where in ("json", "query"):
        named = {problem["field"] for problem in error.get("fields", [])}
        if not any(name == slot.field or name.endswith(f".{slot.field}") for name in named):
            return f"422 naming {sorted(named)}, not {slot.field}"
    return None


def _error_of(response: httpx.Response) -> dict[str, Any] | None:
    """The ``error`` member of a JSON error body; ``None`` when the body is not one."""
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(error, dict):
        return None
    if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
        return None
    return error


def _with_literal(base: Mapping[str, Any], dotted: str, literal: str) -> bytes:
    """``base`` as JSON with the field at ``dotted`` replaced by the raw ``literal``.

    Raw, so that a case can be JSON no Python value serialises to (an escaped lone surrogate,
    ``1e400``, a 5000-digit number, ``NaN``).
    """
    document = json.loads(json.dumps(base))
    *parents, last = dotted.split(".")
    container: Any = document
    for part in parents:
        container = container[int(part)] if isinstance(container, list) else container[part]
    container[int(last) if isinstance(container, list) else last] = _PLACEHOLDER
    return json.dumps(document).replace(json.dumps(_PLACEHOLDER), literal).encode()
