"""WAN-latency emulation on one machine: a TCP proxy that delivers every chunk a one-way delay late.

There is no ``tc netem`` (nor toxiproxy) here, so the latency a far-away user sees is put on the
wire by this proxy: each chunk read from either side is written to the other side one-way delay
(RTT / 2, plus optional jitter) after it arrived. Per direction, chunks wait in a queue drained by a
timer (``loop.call_at``), so reading never stops while earlier chunks wait, and a later chunk is
never sent before an earlier one, even with jitter. Buffering is bounded (reading pauses when too
much waits), a half-close travels like data (after the chunks sent before it), and a reset on one
side becomes a reset on the other.

A new connection also pays its TCP handshake: the client's connect returns at once (the proxy
accepts locally), so its first bytes are held one extra RTT, as if they had waited for the SYN-ACK.

Timer accuracy: asyncio's epoll selector rounds every wait up to a whole millisecond and waking up
costs a little more (measured here: timers fire 0.67 ms late on average, 0.19-1.11 ms p5-p95), which
would add ~1.3 ms to every emulated RTT. Rather than busy-wait, :class:`TimerBias` learns the mean
lateness from the timers' own firings and deadlines are armed that much early, so delivery errors
centre on zero (about +/-0.5 ms per direction). The learnt bias is capped at what timer rounding
can explain, so an overloaded loop shows up as extra latency instead of being hidden.

Run it: ``python -m loadtest.wanproxy --listen 127.0.0.1:9000 --target 127.0.0.1:8000 --rtt-ms 80``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import logging
import random
import signal
import socket
import struct
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

logger = logging.getLogger(__name__)

DEFAULT_BUFFER_LIMIT = 1 << 20
"""Bytes one direction may hold (delay queue + socket write buffer) before reading pauses."""

_REFUSED_LINGER = 5.0  # seconds a refused client may take to close its side before we do

# Reading resumes below half the limit, checked on every delivery and when the sink drains below
# asyncio's low-water mark; that is only sure to happen if the sink's own buffer (high-water
# 64 KiB) cannot hold half the limit by itself.
_MIN_BUFFER_LIMIT = 128 << 10


# --- Pure decisions -------------------------------------------------------------------------


def delivery_time(
    arrival: float, delay: float, previous_delivery: float, link_open_at: float = 0.0
) -> float:
    """When a chunk is due on the far side.

    ``delay`` is this chunk's one-way delay (jitter included, may not be negative); the chunk is
    never due before the one ahead of it (order is kept even when jitter shortens a delay) and is
    sent no earlier than ``link_open_at`` (the moment the emulated handshake lets its sender talk).
    """
    sent = max(arrival, link_open_at)
    return max(sent + delay, previous_delivery)


@dataclass(frozen=True)
class LinkProfile:
    """One direction of the emulated link: a fixed delay with uniform jitter, in seconds."""

    one_way_delay: float
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.one_way_delay < 0 or self.jitter < 0:
            raise ValueError("delay and jitter must not be negative")

    @classmethod
    def from_ms(cls, one_way_delay_ms: float, jitter_ms: float = 0.0) -> LinkProfile:
        return cls(one_way_delay_ms / 1000, jitter_ms / 1000)

    def sample_delay(self, rng: random.Random) -> float:
        """One chunk's delay: uniform in delay +/- jitter, floored at zero."""
        if not self.jitter:
            return self.one_way_delay
        return max(0.0, self.one_way_delay + rng.uniform(-self.jitter, self.jitter))


class TimerBias:
    """How late the event loop's timers fire, learnt from their firings.

    Timers are armed ``seconds`` before their deadline; each firing reports how far from the
    deadline it landed and the estimate moves a little towards cancelling that error (an
    exponential moving average of the lateness). The ceiling keeps the correction within what timer
    rounding and wake-up cost explain (1 ms granularity + a fraction): lateness beyond that comes
    from a busy loop and must stay visible.
    """

    def __init__(
        self, initial: float = 0.5e-3, smoothing: float = 0.05, ceiling: float = 1.5e-3
    ) -> None:
        self._seconds = initial
        self._smoothing = smoothing
        self._ceiling = ceiling

    @property
    def seconds(self) -> float:
        return self._seconds

    def observe(self, lateness: float) -> None:
        """Record a timer that fired ``lateness`` seconds after its deadline (negative: early)."""
        corrected = self._seconds + self._smoothing * lateness
        self._seconds = min(max(corrected, 0.0), self._ceiling)


# --- One direction of a connection ----------------------------------------------------------


class _End(enum.Enum):
    """How a direction ends, queued behind its data so it arrives as late as the data would."""

    EOF = "eof"  # half-close: write_eof on the far side, the other direction keeps flowing
    CLOSE = "close"  # the sender is gone cleanly: close the far side after flushing
    RESET = "reset"  # the sender's connection failed: abort the far side (it sees a reset)


class _Pipe:
    """Chunks from ``source`` waiting to be written to ``sink`` when due, in arrival order.

    Bytes held here plus the sink's write buffer are bounded by ``buffer_limit``: above it the
    source stops being read, below half of it reading resumes.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        link: LinkProfile,
        rng: random.Random,
        bias: TimerBias,
        buffer_limit: int,
        link_open_at: float,
        on_end_delivered: Callable[[_Pipe, _End], None],
    ) -> None:
        self.source: asyncio.Transport | None = None
        self._sink: asyncio.Transport | None = None
        self._loop = loop
        self._link = link
        self._rng = rng
        self._bias = bias
        self._buffer_limit = buffer_limit
        self._link_open_at = link_open_at
        self._on_end_delivered = on_end_delivered
        self._queue: deque[tuple[float, bytes | _End]] = deque()
        self._queued_bytes = 0
        self._last_due = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_deadline = 0.0
        self._source_paused = False
        self._discarded = False

    def attach_sink(self, sink: asyncio.Transport) -> None:
        self._sink = sink
        self._deliver_due()

    def push(self, data: bytes) -> None:
        if self._discarded:
            return
        self._queued_bytes += len(data)
        self._enqueue(data)
        if not self._source_paused and self._pending_bytes() > self._buffer_limit:
            self._source_paused = True
            if self.source is not None:
                self.source.pause_reading()

    def push_end(self, end: _End) -> None:
        if not self._discarded:
            self._enqueue(end)

    def discard(self) -> None:
        """Drop whatever waits: its receiver is gone."""
        self._discarded = True
        self._queue.clear()
        self._queued_bytes = 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def sink_drained(self) -> None:
        """The sink's write buffer fell below its low-water mark: maybe read the source again."""
        self._maybe_resume_source()

    def _enqueue(self, item: bytes | _End) -> None:
        arrival = self._loop.time()
        due = delivery_time(
            arrival, self._link.sample_delay(self._rng), self._last_due, self._link_open_at
        )
        self._last_due = due
        self._queue.append((due, item))
        if self._timer is None:
            self._deliver_due()

    def _on_timer(self) -> None:
        self._timer = None
        self._bias.observe(self._loop.time() - self._timer_deadline)
        self._deliver_due()

    def _deliver_due(self) -> None:
        """Write every chunk due now, then arm the timer for the next one.

        "Now" reaches ``bias`` ahead: a timer armed for a chunk due sooner than that would fire
        later than sending it at once.
        """
        sink = self._sink
        if sink is None or self._discarded:
            return
        horizon = self._loop.time() + self._bias.seconds
        queue = self._queue
        batch: list[bytes] = []
        while queue and queue[0][0] <= horizon:
            _, item = queue.popleft()
            if isinstance(item, bytes):
                batch.append(item)
                continue
            self._write(sink, batch)
            batch = []
            self._deliver_end(sink, item)
            if self._discarded:
                return
        self._write(sink, batch)
        if queue and self._timer is None:
            self._timer_deadline = queue[0][0]
            self._timer = self._loop.call_at(
                self._timer_deadline - self._bias.seconds, self._on_timer
            )
        self._maybe_resume_source()

    def _write(self, sink: asyncio.Transport, batch: list[bytes]) -> None:
        if not batch:
            return
        data = batch[0] if len(batch) == 1 else b"".join(batch)
        self._queued_bytes -= len(data)
        if not sink.is_closing():
            sink.write(data)

    def _deliver_end(self, sink: asyncio.Transport, end: _End) -> None:
        if end is _End.EOF:
            if not sink.is_closing() and sink.can_write_eof():
                sink.write_eof()
        elif end is _End.CLOSE:
            sink.close()
        else:
            _reset(sink)
        self._on_end_delivered(self, end)

    def _pending_bytes(self) -> int:
        buffered = self._sink.get_write_buffer_size() if self._sink is not None else 0
        return self._queued_bytes + buffered

    def _maybe_resume_source(self) -> None:
        if self._source_paused and self._pending_bytes() <= self._buffer_limit // 2:
            self._source_paused = False
            if self.source is not None and not self.source.is_closing():
                self.source.resume_reading()


_LINGER_NOW = struct.pack("ii", 1, 0)  # SO_LINGER on, zero timeout: close() sends a RST


def _reset(transport: asyncio.Transport) -> None:
    """Close with a TCP RST (asyncio's abort() alone sends a FIN), as the other side got one."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_NOW)
    transport.abort()


# --- One proxied connection -----------------------------------------------------------------


class _Endpoint(asyncio.Protocol):
    """One socket of a proxied connection: what it reads feeds ``outgoing``, ``incoming`` writes
    to it."""

    def __init__(self, connection: _Connection, outgoing: _Pipe, incoming: _Pipe) -> None:
        self.connection = connection
        self.outgoing = outgoing
        self.incoming = incoming
        self.transport: asyncio.Transport | None = None
        self.alive = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # asyncio's own transports already disable Nagle; other loops may not.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.outgoing.source = transport
        self.incoming.attach_sink(transport)
        self.connection.endpoint_made(self)

    def data_received(self, data: bytes) -> None:
        self.outgoing.push(data)

    def eof_received(self) -> bool:
        self.connection.endpoint_eof(self)
        return True  # keep the transport: the other direction may still be talking

    def resume_writing(self) -> None:
        self.incoming.sink_drained()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connection.endpoint_lost(self, exc)


class _Connection:
    """A client connection and its connection to the target, joined by two delayed pipes."""

    def __init__(self, proxy: WanProxy, loop: asyncio.AbstractEventLoop) -> None:
        self._proxy = proxy
        self._loop = loop
        now = loop.time()
        link = proxy.link
        handshake_rtt = 2 * link.one_way_delay if proxy.emulate_handshake else 0.0
        # The client may talk once the SYN-ACK would have reached it; the target once the
        # client's ACK would have reached the target, half a round trip later.
        upstream = _Pipe(
            loop,
            link,
            proxy.rng,
            proxy.bias,
            proxy.buffer_limit,
            link_open_at=now + handshake_rtt,
            on_end_delivered=self._end_delivered,
        )
        downstream = _Pipe(
            loop,
            link,
            proxy.rng,
            proxy.bias,
            proxy.buffer_limit,
            link_open_at=now + 1.5 * handshake_rtt,
            on_end_delivered=self._end_delivered,
        )
        self.client = _Endpoint(self, outgoing=upstream, incoming=downstream)
        self.target = _Endpoint(self, outgoing=downstream, incoming=upstream)
        self._eofs_delivered = 0
        self._closing = False
        self.finished: asyncio.Future[None] = loop.create_future()
        self._connect_task: asyncio.Task[None] | None = None

    def endpoint_made(self, endpoint: _Endpoint) -> None:
        if self._closing and endpoint.transport is not None:
            endpoint.transport.abort()  # the proxy stopped between accept and now
        elif endpoint is self.client:
            self._connect_task = self._loop.create_task(self._connect_target())

    async def _connect_target(self) -> None:
        proxy = self._proxy
        try:
            await self._loop.create_connection(
                lambda: self.target, proxy.target_host, proxy.target_port
            )
        except OSError as error:
            logger.info("target %s:%s unreachable: %s", proxy.target_host, proxy.target_port, error)
            self._refuse_client()

    def _refuse_client(self) -> None:
        """Say goodbye with a FIN and close once the client answers with its own.

        Closing outright would turn any bytes the client already sent into a reset.
        """
        self.target.alive = False
        self.client.outgoing.discard()
        self.client.incoming.discard()
        transport = self.client.transport
        if transport is None or transport.is_closing():
            self._finish_if_done()
            return
        transport.write_eof()
        self._loop.call_at(self._loop.time() + _REFUSED_LINGER, transport.close)

    def _end_delivered(self, pipe: _Pipe, end: _End) -> None:
        if end is not _End.EOF:
            self._closing = True
            return
        self._eofs_delivered += 1
        if self._eofs_delivered == 2:  # both sides said goodbye: the connection is done
            self.close()

    def endpoint_eof(self, endpoint: _Endpoint) -> None:
        if self._peer(endpoint).alive:
            endpoint.outgoing.push_end(_End.EOF)
        elif endpoint.transport is not None:
            endpoint.transport.close()  # it heard our goodbye and answered: done

    def endpoint_lost(self, endpoint: _Endpoint, exc: Exception | None) -> None:
        endpoint.alive = False
        endpoint.incoming.discard()
        if self._peer(endpoint).alive and not self._closing:
            endpoint.outgoing.push_end(_End.CLOSE if exc is None else _End.RESET)
        else:
            endpoint.outgoing.discard()
        self._finish_if_done()

    def _peer(self, endpoint: _Endpoint) -> _Endpoint:
        return self.target if endpoint is self.client else self.client

    def close(self, abort: bool = False) -> None:
        """Close both sockets now (flushing what was already written unless ``abort``)."""
        self._closing = True
        if self._connect_task is not None and not self._connect_task.done():
            self._connect_task.cancel()
            self.target.alive = False
        for endpoint in (self.client, self.target):
            endpoint.outgoing.discard()
            endpoint.incoming.discard()
            if endpoint.alive and endpoint.transport is not None:
                if abort:
                    endpoint.transport.abort()
                else:
                    endpoint.transport.close()
        self._finish_if_done()

    def _finish_if_done(self) -> None:
        if not self.client.alive and not self.target.alive and not self.finished.done():
            self.finished.set_result(None)


# --- The proxy ------------------------------------------------------------------------------


class WanProxy:
    """A TCP proxy from ``listen_host:listen_port`` to ``target_host:target_port`` that delays
    every chunk by ``one_way_delay_ms`` (+/- uniform ``jitter_ms``) in each direction.

    ``listen_port=0`` picks a free port (read it from :attr:`port` after :meth:`start`). Use
    ``async with WanProxy(...) as proxy:`` or :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        listen_host: str,
        listen_port: int,
        target_host: str,
        target_port: int,
        one_way_delay_ms: float,
        jitter_ms: float = 0,
        seed: int | None = None,
        *,
        emulate_handshake: bool = True,
        buffer_limit: int = DEFAULT_BUFFER_LIMIT,
    ) -> None:
        if buffer_limit < _MIN_BUFFER_LIMIT:
            raise ValueError(f"buffer_limit must be at least {_MIN_BUFFER_LIMIT} bytes")
        self.listen_host = listen_host
        self.listen_port = listen_port
        self.target_host = target_host
        self.target_port = target_port
        self.link = LinkProfile.from_ms(one_way_delay_ms, jitter_ms)
        self.emulate_handshake = emulate_handshake
        self.buffer_limit = buffer_limit
        self.rng = random.Random(seed)
        self.bias = TimerBias()
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    @property
    def port(self) -> int:
        """The port the proxy listens on (the one picked when asked for port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the proxy is not listening; call start() first")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the proxy is already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: self._accept(loop), self.listen_host, self.listen_port, backlog=1024
        )

    async def stop(self) -> None:
        """Stop listening and abort every live connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.close(abort=True)
        await asyncio.gather(*(connection.finished for connection in connections))
        await server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _accept(self, loop: asyncio.AbstractEventLoop) -> _Endpoint:
        connection = _Connection(self, loop)
        self._connections.add(connection)
        connection.finished.add_done_callback(lambda _: self._connections.discard(connection))
        return connection.client


# --- Command line ---------------------------------------------------------------------------


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.wanproxy",
        description="TCP proxy that adds WAN latency: every chunk is delivered RTT/2 after it "
        "arrived, in each direction, order kept.",
    )
    parser.add_argument(
        "--listen",
        type=_host_port,
        required=True,
        metavar="HOST:PORT",
        help="where to listen (port 0 picks a free one, printed at start)",
    )
    parser.add_argument(
        "--target",
        type=_host_port,
        required=True,
        metavar="HOST:PORT",
        help="where to forward connections",
    )
    parser.add_argument(
        "--rtt-ms",
        type=_non_negative,
        required=True,
        help="round-trip time to add; each direction gets half",
    )
    parser.add_argument(
        "--jitter-ms",
        type=_non_negative,
        default=0.0,
        help="each chunk's one-way delay varies uniformly by +/- this",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for the jitter")
    parser.add_argument(
        "--no-handshake",
        dest="emulate_handshake",
        action="store_false",
        help="do not charge new connections one RTT for the TCP handshake",
    )
    return parser


async def _serve(proxy: WanProxy) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    async with proxy:
        print(
            f"wanproxy listening on {proxy.listen_host}:{proxy.port} -> "
            f"{proxy.target_host}:{proxy.target_port}, "
            f"rtt {2 * proxy.link.one_way_delay * 1000:g} ms "
            f"(jitter +/-{proxy.link.jitter * 1000:g} ms per direction)",
            flush=True,
        )
        await stopping.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    (listen_host, listen_port), (target_host, target_port) = args.listen, args.target
    proxy = WanProxy(
        listen_host,
        listen_port,
        target_host,
        target_port,
        one_way_delay_ms=args.rtt_ms / 2,
        jitter_ms=args.jitter_ms,
        seed=args.seed,
        emulate_handshake=args.emulate_handshake,
    )
    try:
        asyncio.run(_serve(proxy))
    except OSError as error:
        print(f"wanproxy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
