"""Free and closed local ports, for servers the tests start and for services that are down."""

from __future__ import annotations

import secrets
import socket


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_outside_ephemeral_range() -> int:
    """A port nothing listens on, below Linux's ephemeral range (32768-60999): an outgoing
    connection or a server asking for port 0 cannot take it between now and its use, which
    makes it the safer choice for a port a test hands to a command to bind later."""
    while True:
        port = secrets.choice(range(20_000, 32_000))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def closed_port_url(scheme: str) -> str:
    """A URL whose port refuses connections: a service that is down."""
    return f"{scheme}://127.0.0.1:{free_port()}/0"
