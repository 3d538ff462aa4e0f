"""The gateway's front door (``provider.connections``), driven over real sockets.

Each test runs batch-ocr-server's application in-process on 127.0.0.1 with the tests'
echo engine and limits small enough to trip in well under a second: the connection cap,
the header and body deadlines, refusals answered before the body is read, and the
bounded drain of a refused body. The same limits at their defaults, under load, are
``tests/server/test_server_under_attack.py``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from PIL import Image

from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.server import running_emulator
from batch_ocr.engines.base import EngineResult
from batch_ocr.provider import signing
from batch_ocr.provider.connections import ConnectionLimits
from batch_ocr.provider.encoding import CONTENT_TYPE, form_body
from batch_ocr.server.app import ServerConfig, ServerHandle, running_server
from batch_ocr.vision.imaging import PreparedImage
from tests.engines.echo_engine import EchoEngine, EchoSettings

SECRET_ID = "AKIDfrontdoor000000000000000000000000000"
SECRET_KEY = "front-door-secret-key"
QUICK = 0.3  # seconds: the header and body deadlines of these tests

pytestmark = pytest.mark.serial  # every test times a deadline


class HeldEcho(EchoEngine):
    """The echo engine, holding every call until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__(EchoSettings())
        self.release = asyncio.Event()

    async def recognise(self, image: PreparedImage) -> EngineResult:
        await self.release.wait()
        return await super().recognise(image)


@asynccontextmanager
async def server(limits: ConnectionLimits, engine: EchoEngine | None = None,
                 queue_limit: int = 8) -> AsyncIterator[ServerHandle]:
    config = ServerConfig(secret_keys={SECRET_ID: SECRET_KEY}, port=0, limits=limits,
                          queue_limit=queue_limit, shutdown_grace_s=1.0)
    async with running_server(config, engine or EchoEngine(EchoSettings())) as handle:
        yield handle


def small_jpeg() -> bytes:
    """A small picture the seller accepts and the echo engine reads."""
    buffer = BytesIO()
    Image.new("RGB", (120, 80), (90, 120, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def request_bytes(url: str, body: bytes, *, signed: bool = True,
                  content_length: int | None = None, chunked: bool = False,
                  expect: bool = False) -> bytes:
    """A POST to ``url`` as raw bytes: headers and ``body`` (which may be short)."""
    parts = urlsplit(url)
    headers = {"Host": parts.netloc, "Content-Type": CONTENT_TYPE}
    if expect:
        headers["Expect"] = "100-continue"
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(len(body) if content_length is None else content_length)
    if signed:
        headers.update(signing.signed_headers(SECRET_ID, SECRET_KEY, "market"))
    head = f"POST {parts.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


async def connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def read_answer(reader: asyncio.StreamReader, timeout_s: float = 5.0) -> tuple[int, bytes]:
    """One HTTP answer: its status and body (by Content-Length)."""
    async with asyncio.timeout(timeout_s):
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("closed without an answer")
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return int(status_line.split()[1]), await reader.readexactly(length)


async def closed_after_s(reader: asyncio.StreamReader, timeout_s: float = 5.0) -> float:
    """Seconds until the server closes the connection (reading and dropping what comes)."""
    started = time.monotonic()
    async with asyncio.timeout(timeout_s):
        try:
            while await reader.read(65536):
                pass
        except ConnectionResetError:
            pass
    return time.monotonic() - started


async def held(handle: ServerHandle, calls: int) -> None:
    """Wait until the server holds ``calls`` calls."""
    async with asyncio.timeout(5):
        while handle.state.held < calls:
            await asyncio.sleep(0.01)


def summary(handle: ServerHandle, caplog: pytest.LogCaptureFixture) -> str:
    """The refusal summary the server would log next."""
    with caplog.at_level(logging.WARNING, logger="batch_ocr.server"):
        handle.state.refusals.flush()
    return caplog.records[-1].getMessage() if caplog.records else ""


async def test_silent_and_dribbling_connections_are_cut_off_at_the_header_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with server(ConnectionLimits(header_timeout_s=QUICK)) as handle:
        silent, silent_writer = await connect(handle.url)  # kept: a dropped writer closes
        dribbling, dribbler = await connect(handle.url)
        prompt, prompt_writer = await connect(handle.url)

        async def dribble() -> None:
            for byte in b"POST /release/idcard_ocr/post HTTP/1.1\r\n":
                dribbler.write(bytes([byte]))
                await asyncio.sleep(0.05)

        task = asyncio.create_task(dribble())
        prompt_writer.write(request_bytes(handle.url, form_body("image/jpeg", small_jpeg())))
        status, _ = await read_answer(prompt)
        cut = await asyncio.gather(closed_after_s(silent), closed_after_s(dribbling))
        silent_writer.close()
        task.cancel()
        # A prompt client's kept-alive connection outlives the deadline between requests.
        await asyncio.sleep(2 * QUICK)
        prompt_writer.write(request_bytes(handle.url, form_body("image/jpeg", small_jpeg())))
        again, _ = await read_answer(prompt)
        assert summary(handle, caplog).endswith("headers too slow x 2")
    assert (status, again) == (200, 200)
    assert all(seconds < 1.5 for seconds in cut), cut


async def test_a_body_too_slow_is_cut_off_and_frees_its_place_in_the_queue(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = form_body("image/jpeg", small_jpeg())
    async with server(ConnectionLimits(body_timeout_s=QUICK), queue_limit=1) as handle:
        reader, writer = await connect(handle.url)
        writer.write(request_bytes(handle.url, body[:10], content_length=len(body)))
        seconds = await closed_after_s(reader)
        held_after = handle.state.held
        # The only place in the queue is free again.
        reader, writer = await connect(handle.url)
        writer.write(request_bytes(handle.url, body))
        status, _ = await read_answer(reader)
        assert "body too slow x 1" in summary(handle, caplog)
    assert QUICK <= seconds < 1.5
    assert held_after == 0 and status == 200


@pytest.mark.parametrize(("signed", "content_length", "queue_full", "status"), [
    (False, 4_000_000, False, 401),  # no signature
    (True, 5_000_000, False, 413),  # declared too large
    (True, 4_000_000, True, 429),  # the queue is full
])
async def test_a_refusal_is_answered_before_any_of_the_body_is_sent(
    signed: bool, content_length: int, queue_full: bool, status: int
) -> None:
    engine = HeldEcho()
    async with server(ConnectionLimits(), engine, queue_limit=1) as handle:
        if queue_full:
            holder, holder_writer = await connect(handle.url)
            holder_writer.write(request_bytes(handle.url, form_body("image/jpeg", small_jpeg())))
            await held(handle, 1)
        reader, writer = await connect(handle.url)
        # Headers only: not a byte of the announced body is ever sent.
        writer.write(request_bytes(handle.url, b"", signed=signed, content_length=content_length))
        answered, body = await read_answer(reader, timeout_s=2.0)
        engine.release.set()
        if queue_full:
            assert (await read_answer(holder))[0] == 200
    assert answered == status, body


async def test_a_client_asking_first_is_refused_before_it_sends_its_body() -> None:
    body = form_body("image/jpeg", small_jpeg())
    async with server(ConnectionLimits(header_timeout_s=QUICK)) as handle:
        reader, writer = await connect(handle.url)
        writer.write(request_bytes(handle.url, b"", signed=False, content_length=len(body),
                                   expect=True))
        refused, _ = await read_answer(reader)
        writer.close()
        # Let through: the go-ahead, then the answer once the body is sent; the
        # connection outlives the header deadline in between.
        reader, writer = await connect(handle.url)
        writer.write(request_bytes(handle.url, b"", content_length=len(body), expect=True))
        go_ahead = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        await asyncio.sleep(2 * QUICK)
        writer.write(body)
        answered, _ = await read_answer(reader)
    assert refused == 401
    assert go_ahead == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert answered == 200


async def test_at_the_cap_the_longest_waiting_connection_makes_room(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with server(ConnectionLimits(max_connections=4)) as handle:
        waiting = [await connect(handle.url) for _ in range(4)]
        await asyncio.sleep(0.05)
        reader, writer = await connect(handle.url)
        writer.write(request_bytes(handle.url, form_body("image/jpeg", small_jpeg())))
        status, _ = await read_answer(reader)
        oldest_closed_s = await closed_after_s(waiting[0][0], timeout_s=1.0)
        others_open = [not r.at_eof() for r, _ in waiting[1:]]
        assert "closed to make room x 1" in summary(handle, caplog)
    assert status == 200
    assert oldest_closed_s < 1.0
    assert all(others_open)


async def test_a_burst_of_connections_while_the_server_is_busy_is_not_dropped() -> None:
    """Connections made while the server's loop is busy wait in the kernel's queue, up to
    the cap: none is dropped unseen (a silent one would never learn, nor be cut off)."""
    burst = 300
    dropped_before = listen_queue_drops()
    async with server(ConnectionLimits(max_connections=burst)) as handle:
        parts = urlsplit(handle.url)
        clients = []
        try:
            # The loop does not run while these connect: the kernel alone answers them.
            for _ in range(burst):
                client = socket.socket()
                client.setblocking(False)
                client.connect_ex((parts.hostname, parts.port))
                clients.append(client)
            time.sleep(0.2)
            # Where the kernel counts what its listen queues drop, that count is the
            # measure and a loaded machine may take its time; elsewhere every connection
            # must be seen before a dropped SYN's retry (1 s) could hide a drop.
            async with asyncio.timeout(0.8 if dropped_before is None else 10.0):
                while len(handle.state.connections) < burst:
                    await asyncio.sleep(0.02)
        finally:
            for client in clients:
                client.close()
    if dropped_before is not None:
        assert listen_queue_drops() == dropped_before


def listen_queue_drops() -> int | None:
    """Connections the kernel's listen queues dropped since boot (Linux's TcpExt
    ListenOverflows and ListenDrops), or None where it does not say."""
    try:
        with open("/proc/net/netstat", encoding="ascii") as stats:
            lines = stats.read().splitlines()
    except OSError:
        return None
    for names, values in zip(lines, lines[1:], strict=False):
        if names.startswith("TcpExt:") and values.startswith("TcpExt:"):
            counts = dict(zip(names.split(), values.split(), strict=True))
            if "ListenOverflows" in counts and "ListenDrops" in counts:
                return int(counts["ListenOverflows"]) + int(counts["ListenDrops"])
    return None


async def test_at_the_cap_with_every_connection_answering_a_new_one_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = HeldEcho()
    async with server(ConnectionLimits(max_connections=2), engine) as handle:
        busy = [await connect(handle.url) for _ in range(2)]  # writers kept: dropped, they close
        for _, writer in busy:
            writer.write(request_bytes(handle.url, form_body("image/jpeg", small_jpeg())))
        await held(handle, 2)
        refused, refused_writer = await connect(handle.url)
        refused_s = await closed_after_s(refused, timeout_s=1.0)
        refused_writer.close()
        engine.release.set()
        statuses = [(await read_answer(reader))[0] for reader, _ in busy]
        assert "refused at the cap x 1" in summary(handle, caplog)
    assert refused_s < 1.0
    assert statuses == [200, 200]


async def test_a_refused_body_is_drained_only_so_far() -> None:
    limits = ConnectionLimits(max_drain_bytes=64 * 1024)
    async with server(limits) as handle:
        # Within the drain limit: refused, drained, and the connection serves again.
        reader, writer = await connect(handle.url)
        writer.write(request_bytes(handle.url, b"x" * 10_000, signed=False))
        first, _ = await read_answer(reader)
        writer.write(request_bytes(handle.url, form_body("image/jpeg", small_jpeg())))
        second, _ = await read_answer(reader)
        # Past it: the answer comes at once, and the connection closes long before the
        # client has sent its 100 MB (chunked: no length to refuse it by).
        reader, writer = await connect(handle.url)
        size = 100 * 1024 * 1024
        writer.write(request_bytes(handle.url, b"", signed=False, chunked=True))
        refused, _ = await read_answer(reader)
        sent = 0
        with pytest.raises(ConnectionError):
            while sent < size:
                writer.write(b"10000\r\n" + b"x" * 65536 + b"\r\n")
                await writer.drain()
                sent += 65536
    assert (first, second) == (401, 200)
    assert refused == 401
    assert sent < size


async def test_the_emulator_keeps_the_same_deadlines() -> None:
    config = EmulatorConfig(header_timeout_s=QUICK, body_timeout_s=QUICK)
    async with running_emulator(config) as emulator:
        silent, silent_writer = await connect(emulator.url)
        slow_body, writer = await connect(emulator.url)
        writer.write(request_bytes(emulator.url, b"image=", content_length=1000))
        cut = await asyncio.gather(closed_after_s(silent), closed_after_s(slow_body))
        silent_writer.close()
    assert all(seconds < 1.5 for seconds in cut), cut
