"""Free and closed local ports, for servers the tests start and for services that are down."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def closed_port_url(scheme: str) -> str:
    """A URL whose port refuses connections: a service that is down."""
    return f"{scheme}://127.0.0.1:{free_port()}/0"
