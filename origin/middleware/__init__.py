"""Pure ASGI middleware for the origin (no ``BaseHTTPMiddleware``: it is slow and breaks streaming).

Install order, outermost first: ``RequestContextMiddleware`` (ids, timing, logs, metrics, last
line of defence), then ``RequestHeadMiddleware`` (repeated or oversized headers), then
``BodyLimitMiddleware``.
"""

from origin.middleware.body_limit import BodyLimitMiddleware, PayloadTooLarge
from origin.middleware.request_context import CompletedRequest, RequestContextMiddleware
from origin.middleware.request_head import RequestHeadMiddleware
from origin.middleware.server_timing import ServerTiming, server_timing, timed

__all__ = [
    "BodyLimitMiddleware",
    "CompletedRequest",
    "PayloadTooLarge",
    "RequestContextMiddleware",
    "RequestHeadMiddleware",
    "ServerTiming",
    "server_timing",
    "timed",
]
