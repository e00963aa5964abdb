"""The ASGI application for servers that import one (``hypercorn origin.asgi:app``)."""

from origin.app import create_app

app = create_app()
