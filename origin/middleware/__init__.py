"""Pure ASGI middleware for the origin (no ``BaseHTTPMiddleware``: it is slow and breaks streaming).

One module per layer; the order they are installed in, and the checks that run once a route is
known, are defined in one place: :mod:`origin.middleware.stack`.
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
