"""configure_logging: JSON lines on a stream, request ids, extras and tracebacks."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from origin.observability.logging import (
    JsonFormatter,
    bind_request_id,
    configure_logging,
    current_request_id,
    unbind_request_id,
)


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, restored afterwards: configure_logging changes process-wide state."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_records_become_one_json_object_per_line(root_logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("info", stream)

    logging.getLogger("outpost.test").info("hello %s", "world", extra={"user": "ada", "n": 3})
    logging.getLogger("outpost.test").debug("below the level")

    (line,) = lines(stream)
    assert line["message"] == "hello world"
    assert (line["level"], line["logger"]) == ("INFO", "outpost.test")
    assert (line["user"], line["n"]) == ("ada", 3)
    assert datetime.fromisoformat(line["timestamp"]).tzinfo is not None
    assert "request_id" not in line


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (0.5, "1970-01-01T00:00:00.500Z"),
        (1700000000.123, "2023-11-14T22:13:20.123Z"),
        (1700000000.9996, "2023-11-14T22:13:21.000Z"),
        (1700000001.0004, "2023-11-14T22:13:21.000Z"),
    ],
)
def test_timestamps_are_utc_iso_8601_with_milliseconds(created: float, expected: str) -> None:
    formatter = JsonFormatter()
    formatter.timestamp(created - 1)  # a cached earlier second must not leak into this one
    assert formatter.timestamp(created) == expected


def test_the_current_request_id_tags_every_line(root_logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)

    token = bind_request_id("req-42")
    try:
        assert current_request_id() == "req-42"
        logging.getLogger("outpost.test").warning("inside")
    finally:
        unbind_request_id(token)
    logging.getLogger("outpost.test").warning("outside")

    inside, outside = lines(stream)
    assert inside["request_id"] == "req-42"
    assert "request_id" not in outside
    assert current_request_id() is None


def test_exceptions_keep_their_traceback_inside_the_line(root_logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)

    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        logging.getLogger("outpost.test").exception("failed", extra={"request_id": "r1"})

    assert len(stream.getvalue().splitlines()) == 1  # newlines in the traceback are escaped
    (line,) = lines(stream)
    assert line["request_id"] == "r1"
    assert line["exception"].startswith("Traceback (most recent call last)")
    assert "ValueError: bad\nvalue" in line["exception"]


def test_values_json_cannot_encode_are_written_as_text(root_logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)

    logging.getLogger("outpost.test").info("odd", extra={"when": {1, 2}.__class__})

    assert lines(stream)[0]["when"] == "<class 'set'>"


def test_configuring_again_replaces_the_handler_instead_of_doubling_lines(
    root_logger: logging.Logger,
) -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", first)
    configure_logging("WARNING", second)

    logging.getLogger("outpost.test").warning("once")
    logging.getLogger("outpost.test").info("filtered")

    assert first.getvalue() == ""
    assert [line["message"] for line in lines(second)] == ["once"]


def test_an_unknown_level_is_refused_and_changes_nothing(root_logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    with pytest.raises(ValueError, match="LOUD"):
        configure_logging("LOUD", io.StringIO())

    logging.getLogger("outpost.test").info("still here")
    assert [line["message"] for line in lines(stream)] == ["still here"]
