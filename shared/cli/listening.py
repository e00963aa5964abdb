"""The servers' sockets, bound by the command itself before anything else starts.

Binding first turns "the port is taken" into one line before any work is done (Hypercorn and
asyncio would fail later, with a traceback), and the servers are handed the bound socket
(``fd://N``). A bound socket that is not yet listening refuses connections, so probing it says
exactly when *our* server accepts: another program on the same port cannot be mistaken for it.
"""

from __future__ import annotations

import asyncio
import socket

from shared.cli.failures import Listener, listen_failure


def bind(listener: Listener) -> socket.socket:
    """A TCP socket bound to the listener's address, not listening yet; CommandFailed with the
    cause and the option to change when the address cannot be had."""
    family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As Hypercorn does: a restart must not wait for the last run's TIME_WAIT connections.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((listener.host, listener.port))
    except OSError as error:
        sock.close()
        raise listen_failure(error, listener) from None
    return sock


def hand_over(sock: socket.socket) -> str:
    """The ``fd://N`` bind for a server that takes the socket over (and closes it)."""
    return f"fd://{sock.detach()}"


def url_of(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket (the port the system chose, for port 0)."""
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


async def until_accepting(address: tuple[str, int], server: asyncio.Future[None]) -> None:
    """Return once ``address`` accepts connections, or once ``server`` ends (raising what it
    raised: a failed start-up)."""
    while not server.done():
        try:
            _, writer = await asyncio.open_connection(*address)
        except OSError:
            await asyncio.wait({server}, timeout=0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    server.result()
