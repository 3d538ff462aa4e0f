"""The emulator's aiohttp application: the gateway and the seller on one path.

A call to the API path goes through, in order:

1. the body limit (413 before reading when Content-Length says too much);
2. reading the body (within the limit and its deadline) and hashing the image, so
   ``per_sha256`` counts every call: unlike the gateway and batch-ocr-server, which
   read no body before the signature and the queue let it through, the test double
   reads them all, since counting what clients send is what it is for;
3. the gateway: signature checks (:mod:`.gateway`), then the rate limit and the quota;
4. seeded latency and faults (:mod:`.faults`); a faulted call is never billable;
5. the seller: image checks and the answer from fixtures (:mod:`.seller`).

``/_emulator/stats``, ``/_emulator/reset`` and ``/_emulator/portrait/<token>.jpg`` need
no auth. Connections go through the gateway's front door as batch-ocr-server's do
(:mod:`..provider.connections`: a connection cap, deadlines for headers and body, a
bounded drain of refused bodies).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from batch_ocr.emulator import CONTROL_PREFIX
from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.faults import (
    HTML_502_PAGE,
    Fault,
    FaultInjector,
    FaultKind,
    FaultRates,
)
from batch_ocr.emulator.stats import Stats
from batch_ocr.provider.answers import (
    dropped_answer,
    gateway_answer,
    portrait_url,
    read_body,
    recognised_data,
    seller_answer,
)
from batch_ocr.provider.connections import ConnectionPool, start_site, track_requests
from batch_ocr.provider.gateway import (
    MSG_GATEWAY_TIMEOUT,
    MSG_METHOD_NOT_ALLOWED,
    MSG_QUOTA_EXCEEDED,
    MSG_RATE_LIMITED,
    Refusal,
    check_request,
)
from batch_ocr.provider.limits import Quota, TokenBucket
from batch_ocr.provider.portraits import PortraitStore, crop_portrait, placeholder_portrait
from batch_ocr.provider.seller import Seller, Upload, load_fixtures, parse_upload
from batch_ocr.run.cards import front_side
from batch_ocr.vision.imaging import PreparedImage

#: Where portraits are served (``image_url``), outside the API path and unauthenticated.
PORTRAIT_ROUTE = f"{CONTROL_PREFIX}/portrait"
#: Seconds the server waits for in-flight calls on shutdown; hangs are released at once.
SHUTDOWN_TIMEOUT_S = 2.0
_MAX_CACHED_PORTRAITS = 1024

if TYPE_CHECKING:
    from batch_ocr.engines.base import Engine


class EmulatorState:
    """Everything one running emulator holds: config, fixtures, meters, counters."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.secret_keys = config.secret_keys
        self.seller = Seller(load_fixtures(config.fixture_paths))
        self.faults = FaultInjector(
            FaultRates(
                latency_ms=config.latency_ms,
                latency_jitter_ms=config.latency_jitter_ms,
                fail_rate=config.fail_rate,
                fail_codes=config.fail_codes,
                html_error_rate=config.html_error_rate,
                reset_rate=config.reset_rate,
                hang_rate=config.hang_rate,
            ),
            config.seed,
        )
        self.bucket = TokenBucket(config.qps) if config.qps is not None else None
        self.quota = Quota(config.quota) if config.quota is not None else None
        self.portraits = PortraitStore(ttl_s=config.portrait_ttl_s, max_items=config.max_portraits)
        # sha256 -> rendered portrait, so a re-sent image is not decoded again.
        self._portrait_jpegs: OrderedDict[str, bytes] = OrderedDict()
        self.stats = Stats()
        #: The offline engine with ``--engine local`` (started with the app).
        self.engine: Engine | None = None
        # Set on shutdown so "hang" faults end at once instead of holding the server.
        self.closing = asyncio.Event()

    def reset(self) -> None:
        """Zero the counters, restart the fault sequence, refill the meters."""
        self.stats = Stats()
        self.faults.reseed()
        if self.bucket is not None:
            self.bucket.reset()
        if self.quota is not None:
            self.quota.reset()

    async def portrait_jpeg(
        self, sha256: str, image: bytes, box: tuple[int, int, int, int] | None
    ) -> bytes:
        """The portrait JPEG for an image, rendered once (off the event loop) and cached."""
        if box is None:
            return placeholder_portrait()
        jpeg = self._portrait_jpegs.get(sha256)
        if jpeg is None:
            jpeg = await asyncio.to_thread(crop_portrait, image, box)
            self._portrait_jpegs[sha256] = jpeg
            if len(self._portrait_jpegs) > _MAX_CACHED_PORTRAITS:
                self._portrait_jpegs.popitem(last=False)
        return jpeg


STATE: web.AppKey[EmulatorState] = web.AppKey("batch_ocr_emulator_state", EmulatorState)


def _refuse(state: EmulatorState, refusal: Refusal) -> web.Response:
    """The gateway's ``{"message": ...}`` answer, counted."""
    state.stats.gateway_refusals[refusal.message] += 1
    state.stats.count_answer(refusal.status, None)
    return gateway_answer(refusal)


def _seller_answer(
    state: EmulatorState, code: int, data: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    state.stats.count_answer(status, code)
    return seller_answer(code, data, status=status)


def _drop_connection(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.abort()
    return dropped_answer()


async def _inject(request: web.Request, state: EmulatorState, fault: Fault) -> web.Response:
    """Answer (or not) the way ``fault`` says; faulted calls are never billable."""
    state.stats.faults[fault.kind.value] += 1
    if fault.kind is FaultKind.RESET:
        return _drop_connection(request)
    if fault.kind is FaultKind.HANG:
        try:
            # Cancelled when the client gives up (handler_cancellation=True in the runner).
            await asyncio.wait_for(state.closing.wait(), timeout=state.config.hang_s)
        except TimeoutError:
            return _refuse(state, Refusal(504, MSG_GATEWAY_TIMEOUT))
        return _drop_connection(request)
    if fault.kind is FaultKind.HTML_502:
        state.stats.count_answer(502, None)
        return web.Response(text=HTML_502_PAGE, status=502, content_type="text/html")
    code = fault.code or 500
    status = code if fault.kind is FaultKind.ERROR_AS_STATUS else 200
    return _seller_answer(state, code, status=status)


async def _recognise(
    request: web.Request, state: EmulatorState, upload: Upload, sha256: str | None
) -> tuple[web.Response, bool]:
    """The seller's answer and whether it is billable."""
    if upload.image is None or sha256 is None:
        return _seller_answer(state, 400), False
    check = state.seller.check(upload.image, sha256)
    if check.problem is not None:
        return _seller_answer(state, 400), False
    if state.engine is not None:
        return await _recognise_locally(request, state, check.prepared(upload.image), sha256)
    recognition = state.seller.recognise(sha256)
    data = recognition.data
    if recognition.wants_portrait:
        jpeg = await state.portrait_jpeg(sha256, upload.image, recognition.portrait_box)
        token = state.portraits.add(jpeg)
        data["image_url"] = portrait_url(request, PORTRAIT_ROUTE, token)
    state.stats.count_billable(sha256)
    return _seller_answer(state, 200, data), True


async def _recognise_locally(
    request: web.Request, state: EmulatorState, image: PreparedImage, sha256: str
) -> tuple[web.Response, bool]:
    """``--engine local``: real recognition; a failure is the provider's 500, not billed."""
    assert state.engine is not None
    try:
        result = await state.engine.recognise(image)
    except Exception:  # noqa: BLE001 - any engine failure is this call's 500
        return _seller_answer(state, 500), False
    # The provider reads one side per call: a page sent whole is answered by its front.
    one_side = front_side(result.data)
    url = None
    if result.portrait_bytes is not None and one_side.side == "front":
        token = state.portraits.add(result.portrait_bytes)
        url = portrait_url(request, PORTRAIT_ROUTE, token)
    data = recognised_data(one_side, state.seller.next_order_no(), url)
    state.stats.count_billable(sha256)
    return _seller_answer(state, 200, data), True


async def _start_engine(app: web.Application) -> None:
    state = app[STATE]
    if state.config.engine == "local":
        from batch_ocr.engines.local import LocalEngine

        state.engine = LocalEngine.on_processes(state.config.workers)
        await state.engine.start()


async def _stop_engine(app: web.Application) -> None:
    engine = app[STATE].engine
    if engine is not None:
        await engine.aclose()


async def _api(request: web.Request) -> web.Response:
    """The provider's API path: gateway, then faults, then seller."""
    state = request.app[STATE]
    config = state.config
    state.stats.calls += 1
    if request.method != "POST":
        return _refuse(state, Refusal(405, MSG_METHOD_NOT_ALLOWED))

    # Refuse an oversized body before holding it; force_close so that, once the rest is
    # drained (as far as the front door allows), the connection is not reused.
    body = await read_body(request, config.max_body_bytes, config.body_timeout_s)
    if body is None:  # too slow: cut off, nothing to count or answer
        return dropped_answer()
    if isinstance(body, Refusal):
        response = _refuse(state, body)
        response.force_close()
        return response

    upload = parse_upload(body, request.content_type)
    sha256 = hashlib.sha256(upload.image).hexdigest() if upload.image is not None else None
    if sha256 is not None:
        state.stats.per_sha256[sha256] += 1

    refusal = check_request(
        request.headers, state.secret_keys, now_s=time.time(), max_skew_s=config.max_clock_skew_s
    )
    if refusal is not None:
        return _refuse(state, refusal)
    if state.bucket is not None and not state.bucket.try_take():
        state.stats.faults[FaultKind.RATE_LIMITED.value] += 1
        return _refuse(state, Refusal(429, MSG_RATE_LIMITED))
    quota = state.quota
    if quota is not None and not quota.reserve():
        state.stats.faults[FaultKind.QUOTA_EXCEEDED.value] += 1
        return _refuse(state, Refusal(429, MSG_QUOTA_EXCEEDED))

    billable = False
    try:
        plan = state.faults.next_call()
        if plan.latency_s > 0:
            await asyncio.sleep(plan.latency_s)
        if plan.fault is not None:
            return await _inject(request, state, plan.fault)
        response, billable = await _recognise(request, state, upload, sha256)
        return response
    finally:
        if quota is not None:
            quota.settle(billable=billable)


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats.snapshot())


async def _reset(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.reset()
    return web.json_response(state.stats.snapshot())


async def _portrait(request: web.Request) -> web.Response:
    # The token is only a dict key: no file system, hence no path traversal.
    state = request.app[STATE]
    jpeg = state.portraits.get(request.match_info["token"])
    if jpeg is None:
        raise web.HTTPNotFound(text="portrait not found or expired")
    state.stats.portraits_served += 1
    return web.Response(body=jpeg, content_type="image/jpeg")


async def _on_shutdown(app: web.Application) -> None:
    app[STATE].closing.set()


def make_app(config: EmulatorConfig | None = None) -> web.Application:
    """The emulator as an ``aiohttp.web.Application`` (fixtures are loaded here)."""
    config = config or EmulatorConfig()
    app = web.Application(client_max_size=config.max_body_bytes,
                          middlewares=[track_requests])
    app[STATE] = EmulatorState(config)
    app.router.add_route("*", config.path, _api)
    app.router.add_get(f"{CONTROL_PREFIX}/stats", _stats)
    app.router.add_post(f"{CONTROL_PREFIX}/reset", _reset)
    app.router.add_get(f"{PORTRAIT_ROUTE}/{{token}}.jpg", _portrait)
    app.on_shutdown.append(_on_shutdown)
    app.on_startup.append(_start_engine)
    app.on_cleanup.append(_stop_engine)
    return app


@dataclass(frozen=True)
class EmulatorHandle:
    """A running emulator: where it listens and its counters (read in-process)."""

    app: web.Application
    base_url: str
    url: str

    @property
    def config(self) -> EmulatorConfig:
        """The config it runs with."""
        return self.app[STATE].config

    def stats(self) -> dict[str, Any]:
        """The same JSON as ``GET /_emulator/stats``."""
        return self.app[STATE].stats.snapshot()

    def reset(self) -> None:
        """The same as ``POST /_emulator/reset``."""
        self.app[STATE].reset()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@asynccontextmanager
async def running_emulator(config: EmulatorConfig | None = None) -> AsyncIterator[EmulatorHandle]:
    """Run the emulator on ``config.host``/``config.port`` (default 127.0.0.1, a free port).

    For test fixtures and the CLI; the server stops when the block exits.
    """
    config = config or EmulatorConfig()
    app = make_app(config)
    runner = web.AppRunner(
        app,
        access_log=None,  # the hot path must stay lean; stats say what happened
        handler_cancellation=True,  # a client that gives up cancels its hanging call
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        **config.connection_limits.handler_args(),
    )
    await runner.setup()
    try:
        await start_site(runner, config.host, config.port,
                         ConnectionPool(config.connection_limits))
        port = runner.addresses[0][1]
        base_url = f"http://{_url_host(config.host)}:{port}"
        yield EmulatorHandle(app=app, base_url=base_url, url=base_url + config.path)
    finally:
        await runner.cleanup()
