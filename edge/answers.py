"""Answers the edge gives itself: JSON errors (``{"error": {"code", "message"}}``) and the
exception a step raises to answer early (401, 403, 451, ...) instead of passing the request on."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from edge.http import EdgeResponse
from shared.errors import error_body

JSON_CONTENT_TYPE = "application/json"


def json_response(
    status: int, document: Any, headers: Iterable[tuple[str, str]] = ()
) -> EdgeResponse:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return EdgeResponse(
        status=status,
        headers=[("content-type", JSON_CONTENT_TYPE), ("cache-control", "no-store"), *headers],
        body=body,
    )


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Iterable[tuple[str, str]] = (),
    **details: Any,
) -> EdgeResponse:
    return json_response(status, error_body(code, message, **details), headers)


class EarlyAnswer(Exception):
    """Raised by a step that answers the request itself; the pipeline sends ``response``."""

    def __init__(self, response: EdgeResponse) -> None:
        super().__init__(response.status)
        self.response = response


def refuse(
    status: int,
    code: str,
    message: str,
    headers: Iterable[tuple[str, str]] = (),
    **details: Any,
) -> EarlyAnswer:
    return EarlyAnswer(error_response(status, code, message, headers, **details))
