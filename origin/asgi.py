"""The ASGI application for servers that import one (``uvicorn origin.asgi:app``); every
``outpost origin`` server loads it from here."""

import gc

from origin.app import create_app

app = create_app()

# What start-up made lives as long as the process: modules, the app, its models and schemas.
# Frozen, it leaves the collector's view, so a full collection walks only what requests left
# behind. Unfrozen, each full collection walked all of it while every request in flight waited:
# 16-67 ms pauses, the origin's p99 under load (docs/benchmarks.md).
gc.freeze()
