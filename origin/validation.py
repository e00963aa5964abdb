"""Turning request bodies and query strings into validated models, or into 400/415/422 errors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from origin.errors import ApiError

ModelT = TypeVar("ModelT", bound=BaseModel)


async def read_json(request: Request, model: type[ModelT]) -> ModelT:
    """The body as ``model``; 415 unless JSON, 400 when malformed, 422 naming the bad fields."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    body = await request.body()
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {error}") from None
    return validate(model, document)


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
        raise ApiError(
            422,
            "validation_failed",
            "the request does not match what this route accepts",
            fields=[_field_problem(problem) for problem in error.errors(include_url=False)],
        ) from None


def _field_problem(problem: Mapping[str, Any]) -> dict[str, str]:
    location = ".".join(str(part) for part in problem["loc"]) or "(body)"
    return {"field": location, "message": str(problem["msg"]), "type": str(problem["type"])}
