"""The one error body both sides answer with: ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

from typing import Any


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    """The JSON error document; ``details`` become extra members of ``error`` (e.g. ``fields``)."""
    error: dict[str, Any] = {"code": code, "message": message}
    error.update(details)
    return {"error": error}
