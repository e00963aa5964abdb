"""The app's own routes: the demo shop in the template, your domain in an app made from it.

``origin/app.py`` takes its domain routes and exception handlers from here, so replacing the
demo means changing this module (``outpost new --no-demo`` does it for you).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.routing import BaseRoute

# template:no-demo: from origin import example
from origin.demo import routes as demo  # template:demo

ROUTES: list[BaseRoute] = [*demo.ROUTES]  # template:demo
# template:no-demo: ROUTES: list[BaseRoute] = [*example.ROUTES]
EXCEPTION_HANDLERS: Mapping[Any, Any] = demo.EXCEPTION_HANDLERS  # template:demo
# template:no-demo: EXCEPTION_HANDLERS: Mapping[Any, Any] = {}
