"""The WAN-latency proxy delays each chunk by the one-way delay it was asked, keeps order, and
passes half-closes, resets and refusals on. Real sockets on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import statistics
import struct
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadtest.wanproxy import LinkProfile, TimerBias, WanProxy, delivery_time

pytestmark = pytest.mark.anyio

LOCALHOST = "127.0.0.1"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@asynccontextmanager
async def tcp_server(handler: Handler) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, LOCALHOST, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def connected(port: int) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(LOCALHOST, port)
    try:
        yield reader, writer
    finally:
        writer.close()
        # A reset connection raises again here; the test has already judged it.
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


async def round_trip_ms(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: bytes
) -> float:
    started = time.perf_counter()
    writer.write(message)
    assert await reader.readexactly(len(message)) == message
    return (time.perf_counter() - started) * 1000


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- Pure decisions -------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1e-3),  # gap since the previous arrival
            st.floats(min_value=0, max_value=0.1),  # this chunk's delay, jitter included
        ),
        min_size=1,
        max_size=50,
    )
)
def test_delivery_times_never_reorder_chunks_nor_deliver_before_their_delay(
    chunks: list[tuple[float, float]],
) -> None:
    arrival, previous = 0.0, 0.0
    for gap, delay in chunks:
        arrival += gap
        due = delivery_time(arrival, delay, previous)
        assert due >= previous
        assert due >= arrival + delay
        previous = due


def test_a_chunk_waits_for_the_emulated_handshake_before_its_delay_starts() -> None:
    assert delivery_time(arrival=1.0, delay=0.02, previous_delivery=0.0, link_open_at=1.04) == (
        pytest.approx(1.06)
    )
    assert delivery_time(arrival=2.0, delay=0.02, previous_delivery=0.0, link_open_at=1.04) == (
        pytest.approx(2.02)
    )


def test_jittered_delays_stay_within_the_asked_band_and_never_go_negative() -> None:
    rng = random.Random(7)
    delays = [LinkProfile(0.010, 0.002).sample_delay(rng) for _ in range(1000)]
    assert 0.008 <= min(delays) < 0.0085
    assert 0.0115 < max(delays) <= 0.012
    assert min(LinkProfile(0.001, 0.005).sample_delay(rng) for _ in range(1000)) == 0.0


def test_negative_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        LinkProfile(-0.001)


def test_timer_bias_converges_on_the_mean_lateness_of_timers_armed_that_early() -> None:
    bias = TimerBias(initial=0.0)
    rng = random.Random(3)
    for _ in range(2000):
        # A timer armed `bias` early fires uniformly 0-1 ms late (whole-ms rounding) + 0.1 ms.
        raw_lateness = rng.uniform(0.0, 1e-3) + 0.1e-3
        bias.observe(raw_lateness - bias.seconds)
    assert bias.seconds == pytest.approx(0.6e-3, abs=0.1e-3)


def test_timer_bias_is_capped_so_an_overloaded_loop_is_not_hidden() -> None:
    bias = TimerBias(ceiling=1.5e-3)
    for _ in range(500):
        bias.observe(0.050)
    assert bias.seconds == 1.5e-3
    for _ in range(500):
        bias.observe(-0.050)
    assert bias.seconds == 0.0


# --- Latency --------------------------------------------------------------------------------


async def test_round_trip_p50_is_within_2ms_of_an_asked_40ms(anyio_backend: str) -> None:
    async with (
        tcp_server(echo) as echo_port,
        WanProxy(LOCALHOST, 0, LOCALHOST, echo_port, one_way_delay_ms=20) as proxy,
        connected(proxy.port) as (reader, writer),
    ):
        await round_trip_ms(reader, writer, b"warm-up")  # pays the emulated handshake
        rtts = [await round_trip_ms(reader, writer, b"ping %d" % i) for i in range(50)]
    assert abs(statistics.median(rtts) - 40) <= 2, sorted(rtts)
    assert min(rtts) >= 37, sorted(rtts)  # early by at most the timer correction each way


async def connect_and_round_trip_ms(port: int) -> float:
    """Time from starting to connect until the first reply: what a client without a pool pays."""
    started = time.perf_counter()
    async with connected(port) as (reader, writer):
        writer.write(b"hello")
        assert await reader.readexactly(5) == b"hello"
        return (time.perf_counter() - started) * 1000


async def test_a_new_connection_pays_one_extra_round_trip_for_its_handshake(
    anyio_backend: str,
) -> None:
    async with tcp_server(echo) as echo_port:
        async with WanProxy(LOCALHOST, 0, LOCALHOST, echo_port, one_way_delay_ms=10) as proxy:
            with_handshake = await connect_and_round_trip_ms(proxy.port)
        async with WanProxy(
            LOCALHOST, 0, LOCALHOST, echo_port, one_way_delay_ms=10, emulate_handshake=False
        ) as proxy:
            without_handshake = await connect_and_round_trip_ms(proxy.port)
    # Delays only ever add on a busy machine: the lower bounds are the property (a handshake is
    # a second round trip of 20 ms), the upper ones only catch a proxy that never answers.
    assert 38 <= with_handshake <= 500
    assert 18 <= without_handshake <= 500


async def test_zero_delay_passes_data_through_unchanged_and_at_once(anyio_backend: str) -> None:
    payloads = [b"x", bytes(range(256)), os.urandom(200_000), b"\r\n\r\n"]
    async with (
        tcp_server(echo) as echo_port,
        WanProxy(LOCALHOST, 0, LOCALHOST, echo_port, one_way_delay_ms=0) as proxy,
        connected(proxy.port) as (reader, writer),
    ):
        rtts = [await round_trip_ms(reader, writer, payload) for payload in payloads]
    assert max(rtts) < 50


async def test_a_mebibyte_arrives_byte_identical_and_in_order_with_jitter(
    anyio_backend: str,
) -> None:
    data = os.urandom(1 << 20)
    rng = random.Random(11)

    async def send_in_uneven_chunks(writer: asyncio.StreamWriter) -> None:
        offset = 0
        while offset < len(data):
            size = rng.randint(1, 8192)
            writer.write(data[offset : offset + size])
            offset += size
            await writer.drain()
            if rng.random() < 0.05:
                await asyncio.sleep(0.001)  # let chunks arrive at distinct times

    async with (
        tcp_server(echo) as echo_port,
        # Jitter of +/-4 ms on 5 ms would reorder chunks if order were not enforced.
        WanProxy(LOCALHOST, 0, LOCALHOST, echo_port, 5, jitter_ms=4, seed=1) as proxy,
        connected(proxy.port) as (reader, writer),
    ):
        async with asyncio.timeout(20):
            sending = asyncio.create_task(send_in_uneven_chunks(writer))
            received = await reader.readexactly(len(data))
            await sending
    assert received == data


# --- Connection lifecycle -------------------------------------------------------------------


async def test_half_close_reaches_the_target_after_the_data_and_the_reply_still_flows_back(
    anyio_backend: str,
) -> None:
    eof_seen_at: list[float] = []

    async def answer_after_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.read()  # until the client's half-close
        eof_seen_at.append(time.perf_counter())
        for part in (b"got ", request, b" - bye"):
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.005)
        writer.close()

    async with (
        tcp_server(answer_after_eof) as port,
        WanProxy(
            LOCALHOST, 0, LOCALHOST, port, one_way_delay_ms=10, emulate_handshake=False
        ) as proxy,
        connected(proxy.port) as (reader, writer),
        asyncio.timeout(5),
    ):
        writer.write(b"request")
        await asyncio.sleep(0.03)  # the request is through: the FIN travels on its own
        writer.write_eof()
        half_closed_at = time.perf_counter()
        reply = await reader.read()  # until the target's close travels back
    assert reply == b"got request - bye"
    assert eof_seen_at[0] - half_closed_at >= 0.008  # the FIN is delayed like the data


async def test_a_target_refusing_connections_closes_the_client_cleanly(
    anyio_backend: str,
) -> None:
    loop = asyncio.get_running_loop()
    async with WanProxy(LOCALHOST, 0, LOCALHOST, unused_port(), one_way_delay_ms=5) as proxy:
        # Connect and fill the socket buffers before the proxy's loop runs, so the refusal finds
        # unread bytes: a careless close would answer them with a reset.
        with socket.create_connection((LOCALHOST, proxy.port)) as client:
            client.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                for _ in range(256):
                    client.send(b"anyone there?" * 5000)
            async with asyncio.timeout(5):
                assert await loop.sock_recv(client, 100) == b""  # an orderly EOF


async def test_a_reset_from_the_target_reaches_the_client_as_a_reset(anyio_backend: str) -> None:
    async def reset_on_first_byte(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read(1)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with (
        tcp_server(reset_on_first_byte) as port,
        WanProxy(LOCALHOST, 0, LOCALHOST, port, one_way_delay_ms=5) as proxy,
        connected(proxy.port) as (reader, writer),
        asyncio.timeout(5),
    ):
        writer.write(b"x")
        with pytest.raises(ConnectionResetError):
            await reader.read()


async def write_until_stalled(writer: asyncio.StreamWriter, cap: int, stall: float) -> int:
    """Write blocks until ``cap`` bytes went out or a drain waits ``stall`` seconds: bytes sent."""
    block = b"\0" * (1 << 16)
    written = 0
    while written < cap:
        writer.write(block)
        written += len(block)
        try:
            async with asyncio.timeout(stall):
                await writer.drain()
        except TimeoutError:
            break
    return written


async def test_a_target_that_stops_reading_makes_the_client_stall_not_the_proxy_buffer_all(
    anyio_backend: str,
) -> None:
    target_may_read = asyncio.Event()
    target_got_eof = asyncio.Event()
    target_received = 0

    async def slow_reader(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal target_received
        await target_may_read.wait()
        while data := await reader.read(1 << 16):
            target_received += len(data)
        target_got_eof.set()
        writer.close()

    async with (
        tcp_server(slow_reader) as port,
        WanProxy(LOCALHOST, 0, LOCALHOST, port, one_way_delay_ms=1) as proxy,
        connected(proxy.port) as (_, writer),
    ):
        # With unbounded buffering the proxy would swallow all 256 MiB at memory speed.
        written = await write_until_stalled(writer, cap=256 << 20, stall=0.5)
        assert written < 64 << 20  # socket buffers on both hops plus the proxy's bounded queue

        target_may_read.set()
        async with asyncio.timeout(10):
            await writer.drain()
            writer.write_eof()
            await target_got_eof.wait()
    assert target_received == written


async def test_stop_closes_the_listener_and_every_open_connection_at_once(
    anyio_backend: str,
) -> None:
    async with tcp_server(echo) as echo_port:
        proxy = WanProxy(LOCALHOST, 0, LOCALHOST, echo_port, one_way_delay_ms=1000)
        await proxy.start()
        port = proxy.port
        clients = [await asyncio.open_connection(LOCALHOST, port) for _ in range(3)]
        for _, writer in clients:
            writer.write(b"in flight for a second")
        await asyncio.sleep(0.05)

        started = time.perf_counter()
        await proxy.stop()
        assert time.perf_counter() - started < 0.5

        async with asyncio.timeout(2):
            for reader, writer in clients:
                assert await reader.read() == b""  # closed, the delayed bytes dropped
                writer.close()
                await writer.wait_closed()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(LOCALHOST, port)


async def test_port_is_unknown_before_start(anyio_backend: str) -> None:
    proxy = WanProxy(LOCALHOST, 0, LOCALHOST, 1, one_way_delay_ms=1)
    with pytest.raises(RuntimeError, match="start"):
        _ = proxy.port


# --- Command line ---------------------------------------------------------------------------


async def test_the_command_line_proxy_delays_round_trips_and_stops_on_sigterm(
    anyio_backend: str,
) -> None:
    async with tcp_server(echo) as echo_port:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "loadtest.wanproxy",
            "--listen", f"{LOCALHOST}:0", "--target", f"{LOCALHOST}:{echo_port}",
            "--rtt-ms", "20", "--no-handshake",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        try:
            async with asyncio.timeout(10):
                banner = (await process.stdout.readline()).decode()
            assert banner.startswith(f"wanproxy listening on {LOCALHOST}:")
            port = int(banner.split()[3].rpartition(":")[2])
            async with connected(port) as (reader, writer):
                rtts = [await round_trip_ms(reader, writer, b"ping") for _ in range(5)]
            assert 18 <= statistics.median(rtts) <= 25
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                exit_code = await process.wait()
    assert exit_code == 0


async def test_the_command_line_rejects_a_malformed_address(anyio_backend: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loadtest.wanproxy",
        "--listen", "nowhere", "--target", f"{LOCALHOST}:1", "--rtt-ms", "10",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(10):
        _, stderr = await process.communicate()
    assert process.returncode == 2
    assert b"expected HOST:PORT" in stderr


async def test_the_command_line_reports_a_port_already_in_use(anyio_backend: str) -> None:
    with socket.socket() as taken:
        taken.bind((LOCALHOST, 0))
        taken.listen()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "loadtest.wanproxy",
            "--listen", f"{LOCALHOST}:{taken.getsockname()[1]}", "--target", f"{LOCALHOST}:1",
            "--rtt-ms", "10",
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(10):
            _, stderr = await process.communicate()
    assert process.returncode == 1
    assert stderr.startswith(b"wanproxy: ")
    assert b"in use" in stderr
