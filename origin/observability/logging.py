"""Structured logs: one JSON object per line on stderr, tagged with the current request id.

Every record carries ``timestamp``, ``level``, ``logger``, ``message`` and, inside a request, the
``request_id`` (set by the request-context middleware, so code deep in a handler need not pass it
around), plus any ``extra={...}`` fields. Exceptions logged with ``logger.exception`` keep their
traceback in the line's ``exception`` field; responses never carry one.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar, Token
from typing import Any, TextIO

_current_request_id: ContextVar[str | None] = ContextVar("outpost_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    # uvicorn puts the message again, with terminal colour codes, on its records.
    "color_message",
}


def current_request_id() -> str | None:
    """The id of the request being handled in this task (``None`` outside a request)."""
    return _current_request_id.get()


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Tag logs from this context with ``request_id``; undo with :func:`unbind_request_id`."""
    return _current_request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _current_request_id.reset(token)


# One encoder for every line (json.dumps with options builds a new one per call). default=str:
# an odd ``extra`` value must not cost us the whole log line.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False, separators=(",", ":"))


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (newlines inside values are escaped by JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def timestamp(self, created: float) -> str:
        """ISO 8601 UTC with milliseconds; the date-time part is formatted once per second."""
        second, millisecond = divmod(round(created * 1000), 1000)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._second_text}.{millisecond:03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": self.timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _current_request_id.get()
        if request_id is not None:
            line["request_id"] = request_id
        fields = record.__dict__
        for key in fields.keys() - _RECORD_ATTRIBUTES:  # the ``extra`` ones; a set op is cheap
            if key not in line:
                line[key] = fields[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return _ENCODER.encode(line)


class _JsonHandler(logging.StreamHandler[TextIO]):
    """Marks the handler we install, so reconfiguring replaces it instead of adding another."""


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Send every log record at ``level`` or above to ``stream`` (default stderr) as JSON lines.

    Replaces a handler installed by an earlier call and leaves other handlers alone (pytest's log
    capture, for one).
    """
    root = logging.getLogger()
    root.setLevel(level.upper())  # first: an unknown level raises before anything changes
    for handler in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(handler)
    handler = _JsonHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
