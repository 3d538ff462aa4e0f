"""Shared fixtures of the hostile suite (issue 6): clean credentials, fast retries, servers.

Every server a test talks to is started here or in the test, on 127.0.0.1, and stopped
by it; nothing reaches the network.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture(autouse=True)
def hostile_keys(demo_keys: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared demo keys, with backoff capped too so retries cost milliseconds."""
    monkeypatch.setattr("batch_ocr.engines.api.retry_policy.BACKOFF_MAX_S", 0.05)


@dataclass
class RawServer:
    """A hand-written aiohttp server on 127.0.0.1, and what it received."""

    url: str
    base_url: str
    hits: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def raw_server(handler: Handler, *, ssl_context: object = None,
               path: str = "/release/idcard_ocr/post") -> Iterator[RawServer]:
    """Serve ``handler`` on every path of a fresh port in a background loop."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready: asyncio.Future[RawServer] = loop.create_future()
    scheme = "https" if ssl_context is not None else "http"

    async def serve() -> None:
        app = web.Application(client_max_size=16 * 2**20)
        server_box: list[RawServer] = []

        async def recording(request: web.Request) -> web.StreamResponse:
            server_box[0].hits.append({"path": request.path, **request.headers})
            return await handler(request)

        app.router.add_route("*", "/{tail:.*}", recording)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True,
                               shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)  # type: ignore[arg-type]
        await site.start()
        port = runner.addresses[0][1]
        base = f"{scheme}://127.0.0.1:{port}"
        server_box.append(RawServer(url=base + path, base_url=base))
        ready.set_result(server_box[0])
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(10)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


async def _wait(future: asyncio.Future[RawServer]) -> RawServer:
    return await future


def bounded_main(argv: list[str], deadline_s: float = 60.0) -> int:
    """``batch_ocr.cli.main(argv)`` in a thread: a hang fails the test, not the whole suite."""
    from batch_ocr.cli import main

    result: list[int | BaseException] = []

    def target() -> None:
        try:
            result.append(main(argv))
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive():
        pytest.fail(f"batch-ocr hung: no exit after {deadline_s:g} s")
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]
