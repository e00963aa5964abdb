"""Small Starlette apps wired like the origin, for driving the middleware in tests."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from origin.errors import EXCEPTION_HANDLERS
from origin.middleware import BodyLimitMiddleware, RequestContextMiddleware
from origin.middleware.request_context import Observer
from origin.observability.logging import JsonFormatter


def origin_like_app(
    routes: Sequence[BaseRoute],
    *,
    observers: Sequence[Observer] = (),
    max_body_bytes: int = 1024,
) -> Starlette:
    return Starlette(
        routes=list(routes),
        middleware=[
            Middleware(RequestContextMiddleware, observers=observers),
            Middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )


def client_for(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


class LogCapture:
    """JSON log lines from a logger, formatted exactly as in production."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@contextmanager
def capture_json_logs(*names: str) -> Iterator[LogCapture]:
    capture = LogCapture()
    handler = logging.StreamHandler(capture.stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in names]
    previous = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # keep the expected errors out of pytest's report
    try:
        yield capture
    finally:
        for logger, (level, propagate) in zip(loggers, previous, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
