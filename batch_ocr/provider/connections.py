"""The gateway's front door: how many connections it holds and how long a request may
take to arrive, so that traffic without credentials cannot exhaust a server.

aiohttp bounds a request's size (header lines, header count, ``client_max_size``) but
neither how long it takes to arrive nor how many connections are open at once: a few
thousand connections sending a byte a second would hold a server's sockets (and its
open-file limit) for ever. Each accepted connection is wrapped in a
:class:`ConnectionGuard`, and a :class:`ConnectionPool` keeps them all:

- a connection whose request headers have not all arrived ``header_timeout_s`` after it
  opened (or after the request's first byte, on a kept-alive connection) is cut off;
- at ``max_connections``, the connection that has waited longest for a request (one
  still arriving, idle, or draining a refused body) is closed to make room, so a slow
  crowd cannot lock out a client that sends its request promptly; a connection whose
  request is being handled is never closed for room (if all are, the new one is);
- a request refused unread has the rest of its body drained and dropped for at most
  ``linger_s`` (aiohttp's lingering close) and at most ``max_drain_bytes``, so the
  client can finish sending and read the refusal, and then the connection closes.

The body's own deadline, ``body_timeout_s``, is kept by :func:`.answers.read_body`, the
only reader of a body; idle kept-alive connections are closed by aiohttp after
``idle_timeout_s`` (:meth:`ConnectionLimits.handler_args`). Serve with
:func:`start_site` and the :func:`track_requests` middleware; events (a cut-off, a
connection closed for room) go to the pool's ``on_event`` callback, never to a log
directly, so a server can aggregate them.
"""

from __future__ import annotations

import asyncio
import enum
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import StreamReader, web

from batch_ocr.provider import (
    BODY_TIMEOUT_S,
    HEADER_TIMEOUT_S,
    IDLE_TIMEOUT_S,
    LINGER_S,
    MAX_BODY_BYTES,
    MAX_CONNECTIONS,
)


class ConnectionEvent(enum.Enum):
    """What the front door did to a connection, for the server's aggregated log."""

    HEADER_TIMEOUT = "headers too slow"
    BODY_TIMEOUT = "body too slow"
    CLOSED_FOR_ROOM = "closed to make room"
    REFUSED_AT_CAP = "refused at the cap"
    DRAIN_LIMIT = "refused body too long to drain"
    BAD_BODY = "body malformed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionLimits:
    """How many connections are held and how long a request may take to arrive."""

    max_connections: int = MAX_CONNECTIONS
    header_timeout_s: float = HEADER_TIMEOUT_S
    body_timeout_s: float = BODY_TIMEOUT_S
    idle_timeout_s: float = IDLE_TIMEOUT_S
    linger_s: float = LINGER_S
    max_drain_bytes: int = MAX_BODY_BYTES

    def handler_args(self) -> dict[str, Any]:
        """Keyword arguments for ``web.AppRunner`` (aiohttp's own per-connection timers)."""
        return {"keepalive_timeout": self.idle_timeout_s, "lingering_time": self.linger_s}


class Phase(enum.Enum):
    """Where a connection is in its current request."""

    OPENED = "opened"  # no request yet
    HEADERS = "headers"  # a request's headers are arriving
    HANDLING = "handling"  # a handler runs: reading the body, queued, recognising
    ANSWERED = "answered"  # answered; the rest of an unread body may be draining


class ConnectionGuard(asyncio.Protocol):
    """aiohttp's protocol for one connection, wrapped to keep the front door's deadlines.

    Every transport callback is passed on to ``inner`` unchanged; the guard only watches
    the bytes arriving and the phases :func:`track_requests` reports.
    """

    def __init__(self, inner: asyncio.Protocol, pool: ConnectionPool) -> None:
        self._inner = inner
        self._pool = pool
        self._transport: asyncio.Transport | None = None
        self._admitted = False
        self._deadline: asyncio.TimerHandle | None = None
        # The body of the request handled last: bytes arriving while it is unfinished
        # are that body draining, not a new request.
        self._payload: StreamReader | None = None
        self._drained_bytes = 0
        self.phase = Phase.OPENED
        #: When the connection entered its phase (the pool's clock).
        self.since_s = pool.clock()

    # -- the transport's callbacks -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._pool.admit(self):
            transport.abort()
            return
        self._admitted = True
        self._inner.connection_made(transport)
        # From the opening: a connection that never sends a byte is cut off too.
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        if self.phase is Phase.ANSWERED:
            if self._payload is not None and not self._payload.is_eof():
                self._drained_bytes += len(data)
                if self._drained_bytes > self._pool.limits.max_drain_bytes:
                    self.cut_off(ConnectionEvent.DRAIN_LIMIT)
                    return
            else:
                self._enter(Phase.HEADERS)
                self._arm_header_deadline()
        elif self.phase is Phase.OPENED:
            self._enter(Phase.HEADERS)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        self._pool.forget(self)
        if self._admitted:
            self._admitted = False
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    # -- what the application reports ---------------------------------------------------

    def request_started(self, payload: StreamReader) -> None:
        """A request's headers are all in and its handler starts."""
        self._cancel_deadline()
        self._payload = payload
        self._drained_bytes = 0
        self._enter(Phase.HANDLING)

    def request_finished(self) -> None:
        """The handler has answered (aiohttp now writes the answer, then drains)."""
        self._enter(Phase.ANSWERED)

    def cut_off(self, why: ConnectionEvent) -> None:
        """Close the connection at once (nothing more is read or written)."""
        self._pool.forget(self)
        self._pool.report(why)
        self._cancel_deadline()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.abort()

    @property
    def evictable(self) -> bool:
        """Whether the connection may be closed to make room: no handler is running."""
        return self.phase is not Phase.HANDLING

    # -- internals ------------------------------------------------------------------------

    def _enter(self, phase: Phase) -> None:
        self.phase = phase
        self.since_s = self._pool.clock()

    def _arm_header_deadline(self) -> None:
        self._cancel_deadline()
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self._pool.limits.header_timeout_s, self._headers_late)

    def _headers_late(self) -> None:
        self._deadline = None
        if self.phase in (Phase.OPENED, Phase.HEADERS):
            self.cut_off(ConnectionEvent.HEADER_TIMEOUT)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


class ConnectionPool:
    """The open connections of one listening site, and the cap on them."""

    def __init__(
        self,
        limits: ConnectionLimits,
        on_event: Callable[[ConnectionEvent], None] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self._on_event = on_event
        self._open: set[ConnectionGuard] = set()

    def __len__(self) -> int:
        return len(self._open)

    def guard(self, inner: asyncio.Protocol) -> ConnectionGuard:
        """Wrap a new connection's protocol."""
        return ConnectionGuard(inner, self)

    def admit(self, guard: ConnectionGuard) -> bool:
        """Take ``guard`` in, closing the longest-waiting connection if at the cap."""
        if len(self._open) >= self.limits.max_connections:
            waiting = (other for other in self._open if other.evictable)
            oldest = min(waiting, key=lambda other: other.since_s, default=None)
            if oldest is None:
                self.report(ConnectionEvent.REFUSED_AT_CAP)
                return False
            oldest.cut_off(ConnectionEvent.CLOSED_FOR_ROOM)
        self._open.add(guard)
        return True

    def forget(self, guard: ConnectionGuard) -> None:
        """``guard``'s connection is closed (or closing)."""
        self._open.discard(guard)

    def report(self, event: ConnectionEvent) -> None:
        """Pass ``event`` to the server's callback, if it has one."""
        if self._on_event is not None:
            self._on_event(event)


def guard_of(request: web.BaseRequest) -> ConnectionGuard | None:
    """The guard of the connection ``request`` came on (None without one, or once closed)."""
    transport = request.transport
    protocol = transport.get_protocol() if transport is not None else None
    return protocol if isinstance(protocol, ConnectionGuard) else None


def answered_before_handler(request: web.BaseRequest) -> None:
    """``request`` was answered outside the handlers (by an ``Expect`` handler, which
    aiohttp runs before the middlewares): its headers were all in, and it is done."""
    guard = guard_of(request)
    if guard is not None:
        guard.request_started(request.content)
        guard.request_finished()


def cut_off(request: web.BaseRequest, why: ConnectionEvent) -> None:
    """Close ``request``'s connection at once, without an answer."""
    guard = guard_of(request)
    if guard is not None:
        guard.cut_off(why)
    elif request.transport is not None:
        request.transport.abort()


_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def track_requests(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Tell the connection's guard when a request's handler starts and ends."""
    guard = guard_of(request)
    if guard is None:
        return await handler(request)
    guard.request_started(request.content)
    try:
        return await handler(request)
    finally:
        guard.request_finished()


class GuardedSite(web.BaseSite):
    """A TCP site whose every connection goes through ``pool``'s guard."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, pool: ConnectionPool,
        *, backlog: int = 128,
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._host = host
        self._port = port
        self.pool = pool

    @property
    def name(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            lambda: self.pool.guard(server()), self._host, self._port, backlog=self._backlog,
        )
        # asyncio accepts at most ``backlog`` connections per turn of its loop and
        # listens with the same number; a burst of connections past the kernel's queue
        # would be dropped unseen (a client that sends nothing first never learns, and
        # the front door's deadlines never reach it). The kernel's queue is sized to the
        # cap instead (within net.core.somaxconn); how many are accepted per turn is not.
        for listening in self._server.sockets:
            with socket.fromfd(listening.fileno(), listening.family, listening.type) as dup:
                dup.listen(max(self._backlog, self.pool.limits.max_connections))


async def start_site(
    runner: web.BaseRunner, host: str, port: int, pool: ConnectionPool
) -> GuardedSite:
    """Listen on ``host``:``port`` (0: a free port) through ``pool``'s guards."""
    site = GuardedSite(runner, host, port, pool)
    await site.start()
    return site
