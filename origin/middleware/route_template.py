"""Which route template (``/api/products/{id}``) served a request, for logs and metrics.

Raw paths would give every product id its own metric series; templates keep the label set small.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.routing import Mount

UNMATCHED = "unmatched"
"""The route label of requests no route matched (404s, redirects): never the raw path."""


def route_template(scope: Mapping[str, Any], root_path_before: str) -> str | None:
    """The template of the route Starlette's router chose, or ``None`` when none matched.

    Starlette records the innermost matching route in ``scope["route"]``, and each ``Mount`` moves
    the part of the path it matched into ``root_path``; that part (after ``root_path_before``, the
    root path the request arrived with) is the mount prefix. Mount prefixes with parameters show
    their values, since Starlette keeps only the innermost route.
    """
    route = scope.get("route")
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str):
        return None
    root_path: str = scope.get("root_path", "")
    prefix = root_path[len(root_path_before) :] if root_path.startswith(root_path_before) else ""
    if isinstance(route, Mount):
        # A mounted app without routes of its own (static files): everything below the mount.
        return prefix + "/{path}"
    return prefix + path_format
