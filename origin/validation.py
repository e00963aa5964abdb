"""Turning request bodies and query strings into validated models, or into 400/415/422 errors.

JSON bodies are parsed and validated in one step by pydantic (its Rust parser), never by
``json.loads``: the parser refuses nesting deeper than a fixed bound (200) before it costs
anything (``json.loads`` recursed until Python's ``RecursionError`` on 2 KB of brackets), refuses
lone surrogates, which no database can store, and reads a huge number without Python's
conversion limit. Whatever it refuses is a 400 ``invalid_json``; a document of the wrong shape
is a 422 naming the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from origin.errors import ApiError
from origin.fields import TEXT_PATTERNS

ModelT = TypeVar("ModelT", bound=BaseModel)

_MALFORMED_JSON = "json_invalid"


async def read_json(request: Request, model: type[ModelT]) -> ModelT:
    """The body as ``model``; 415 unless JSON, 400 when malformed, 422 naming the bad fields."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    body = await request.body()
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        reason = malformed_json_reason(error)
        if reason is not None:
            raise ApiError(400, "invalid_json", f"the body is not valid JSON: {reason}") from None
        raise invalid_fields(error) from None


def malformed_json_reason(error: ValidationError) -> str | None:
    """Why pydantic refused the bytes as JSON; ``None`` when it was the document's shape."""
    for problem in error.errors(include_url=False):
        if problem["type"] == _MALFORMED_JSON:
            return str(problem.get("ctx", {}).get("error", problem["msg"]))
    return None


def read_query(request: Request, model: type[ModelT]) -> ModelT:
    """The query string as ``model``. A parameter given twice is refused rather than guessed."""
    params = request.query_params
    repeated = sorted({key for key in params if len(params.getlist(key)) > 1})
    if repeated:
        raise ApiError(
            422,
            "validation_failed",
            "a query parameter was given more than once",
            fields=[{"field": key, "message": "give this parameter once"} for key in repeated],
        )
    return validate(model, dict(params))


def validate(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid_fields(error) from None


def invalid_fields(error: ValidationError) -> ApiError:
    """The 422 for a request that does not match its model, naming each field at fault."""
    return ApiError(
        422,
        "validation_failed",
        "the request does not match what this route accepts",
        fields=field_problems(error),
    )


def field_problems(error: ValidationError) -> list[dict[str, str]]:
    return [_field_problem(problem) for problem in error.errors(include_url=False)]


def _field_problem(problem: Mapping[str, Any]) -> dict[str, str]:
    location = ".".join(str(part) for part in problem["loc"]) or "(body)"
    return {"field": location, "message": _message(problem), "type": str(problem["type"])}


def _message(problem: Mapping[str, Any]) -> str:
    """Pydantic's message, except where it would quote our text patterns at the client."""
    kind = problem["type"]
    if kind == "string_pattern_mismatch" and problem.get("ctx", {}).get("pattern") in TEXT_PATTERNS:
        return "control characters are not allowed here"
    if kind == "string_unicode":
        return "the text holds characters that are not valid Unicode (lone surrogates)"
    return str(problem["msg"])
