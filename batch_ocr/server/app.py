"""batch-ocr-server's aiohttp application: the provider's API backed by the offline engine.

A call to the API path goes through, in the emulator's order, and nothing of its body is
read before the first three have let it through (traffic without credentials costs the
server its headers only, :mod:`..provider.connections` bounds how long those may take;
a client that asks ``Expect: 100-continue`` is refused before it sends its body):

1. the body limit (413 when Content-Length says too much);
2. the gateway: signature checks, the same texts as the emulator (:mod:`..provider.gateway`);
3. admission: at most ``queue_limit`` calls are held at once (reading their body,
   recognising or waiting for the engine); one more is the gateway's 429
   ``API rate limit exceeded``, answered at once, so a client backs off and retries as it
   would with the provider, and latency stays bounded however many clients pile on;
4. the body, within the limit and its deadline (a client too slow is cut off);
5. the seller: the upload and the image checks (400 ``参数错误``), :mod:`..provider.seller`;
6. the engine (local processes or Dask); a failure is the provider's 500, and a lost
   cluster also turns ``/healthz`` to 503 so an orchestrator replaces the server.

Logs carry statuses, codes and timings only: never an image, a field or a credential.
Refusals are counted, not logged one by one (:mod:`.refusal_log`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from batch_ocr.engines.base import Engine
from batch_ocr.errors import FatalRunError, FileError
from batch_ocr.provider import (
    DEFAULT_API_PATH,
    MAX_BODY_BYTES,
    MAX_CLOCK_SKEW_S,
    MAX_PORTRAITS,
    PORTRAIT_TTL_S,
)
from batch_ocr.provider.answers import (
    DROPPED_STATUS,
    continue_upload,
    dropped_answer,
    gateway_answer,
    json_answer,
    portrait_url,
    read_body,
    recognised_data,
    refuse_oversized,
    seller_answer,
)
from batch_ocr.provider.connections import (
    ConnectionEvent,
    ConnectionLimits,
    ConnectionPool,
    answered_before_handler,
    start_site,
    track_requests,
)
from batch_ocr.provider.gateway import (
    MSG_METHOD_NOT_ALLOWED,
    MSG_RATE_LIMITED,
    Refusal,
    check_request,
)
from batch_ocr.provider.portraits import PortraitStore
from batch_ocr.provider.seller import Seller, parse_upload
from batch_ocr.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    HEALTH_ROUTE,
    MIN_QUEUE,
    PORTRAIT_ROUTE,
    SHUTDOWN_GRACE_S,
)
from batch_ocr.server.refusal_log import RefusalLog

log = logging.getLogger("batch_ocr.server")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Where the server listens, whom it lets in and how much it holds."""

    #: SecretId -> SecretKey of the accepted clients (never shown in a repr or a log).
    secret_keys: Mapping[str, str] = field(repr=False)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    path: str = DEFAULT_API_PATH
    queue_limit: int = MIN_QUEUE
    portrait_ttl_s: float = PORTRAIT_TTL_S
    max_body_bytes: int = MAX_BODY_BYTES
    max_clock_skew_s: float = MAX_CLOCK_SKEW_S
    shutdown_grace_s: float = SHUTDOWN_GRACE_S
    #: The connection cap and the deadlines for a request to arrive.
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)


class ServerState:
    """One running server: its engine, its queue count, portraits and counters."""

    def __init__(self, config: ServerConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        # The seller checks images and numbers orders; it holds no fixtures here.
        self.seller = Seller({})
        self.portraits = PortraitStore(ttl_s=config.portrait_ttl_s, max_items=MAX_PORTRAITS)
        self.held = 0
        self.answers: Counter[int] = Counter()
        #: Why the engine can recognise nothing more (a lost cluster), if it cannot.
        self.broken: str | None = None
        self.draining = False
        #: Refusals and cut-off connections, logged as counts.
        self.refusals = RefusalLog(log)
        self.connections = ConnectionPool(config.limits, self._connection_event)

    def _connection_event(self, event: ConnectionEvent) -> None:
        self.refusals.count(event.value)


STATE: web.AppKey[ServerState] = web.AppKey("batch_ocr_server_state", ServerState)


async def _recognise(request: web.Request, state: ServerState, image: bytes) -> web.Response:
    """Image checks, then the engine; the seller's answer."""
    check = state.seller.check(image, hashlib.sha256(image).hexdigest())
    if check.problem is not None:
        return seller_answer(400)
    try:
        result = await state.engine.recognise(check.prepared(image))
    except FatalRunError as exc:
        if state.broken is None:
            state.broken = str(exc)
            log.error("the engine cannot recognise anything more: %s", exc)
        return seller_answer(500)
    except FileError as exc:
        log.info("recognition failed: %s", exc.error_code)
        return seller_answer(500)
    url = None
    if result.portrait_bytes is not None and result.data.side == "front":
        url = portrait_url(request, PORTRAIT_ROUTE, state.portraits.add(result.portrait_bytes))
    return seller_answer(200, recognised_data(result.data, state.seller.next_order_no(), url))


#: The gateway's refusals (the seller's answers travel as HTTP 200).
_REFUSAL_STATUSES = frozenset({401, 403, 405, 413, 429})


async def _api(request: web.Request) -> web.Response:
    state = request.app[STATE]
    started_s = time.monotonic()
    try:
        response = await _answer(request, state)
    except Exception as exc:  # noqa: BLE001 - a bug: the provider's 500, not a traceback per call
        state.refusals.count(f"internal error ({type(exc).__name__})")
        log.debug("internal error", exc_info=True)
        response = seller_answer(500)
    if response.status == DROPPED_STATUS:  # cut off: nothing was answered
        return response
    _count(state, response, started_s)
    return response


def _count(state: ServerState, response: web.Response, started_s: float) -> None:
    state.answers[response.status] += 1
    if response.status in _REFUSAL_STATUSES:
        # Counted, not logged one by one: anyone can make these without credentials.
        state.refusals.count(str(response.status))
    else:
        log.debug("call: HTTP %d in %.0f ms", response.status,
                  1000 * (time.monotonic() - started_s))


def _refuse(refusal: Refusal) -> web.Response:
    response = gateway_answer(refusal)
    if refusal.status == 413:
        response.force_close()  # never reuse a connection whose body was refused for size
    return response


def _gate(request: web.Request, state: ServerState) -> Refusal | None:
    """The refusal of a call decided on its headers alone (method, size, signature,
    queue), or None to read its body: a refused call's body is never read, only
    drained and dropped while the client finishes sending it."""
    config = state.config
    if request.method != "POST":
        return Refusal(405, MSG_METHOD_NOT_ALLOWED)
    refusal = refuse_oversized(request, config.max_body_bytes) or check_request(
        request.headers, config.secret_keys, now_s=time.time(),
        max_skew_s=config.max_clock_skew_s)
    if refusal is None and state.held >= config.queue_limit:
        refusal = Refusal(429, MSG_RATE_LIMITED)
    return refusal


async def _expect(request: web.Request) -> web.Response | None:
    """``Expect: 100-continue`` on the API path: a refusal instead of the go-ahead, so a
    client that would be refused (curl asks first for bodies over 1 MB) never sends
    its body."""
    state = request.app[STATE]
    refusal = _gate(request, state)
    if refusal is None:
        await continue_upload(request)
        return None
    answered_before_handler(request)
    response = _refuse(refusal)
    # The body was announced and is not coming: the connection cannot carry another
    # request (RFC 9110, 10.1.1), so the client closes it.
    response.force_close()
    _count(state, response, time.monotonic())
    return response


async def _answer(request: web.Request, state: ServerState) -> web.Response:
    """The provider's answer to one call: gateway, admission, body, seller, engine."""
    config = state.config
    refusal = _gate(request, state)
    if refusal is not None:
        return _refuse(refusal)
    state.held += 1
    try:
        body = await read_body(request, config.max_body_bytes, config.limits.body_timeout_s)
        if body is None:
            return dropped_answer()
        if isinstance(body, Refusal):
            return _refuse(body)
        upload = parse_upload(body, request.content_type)
        del body  # the image alone is kept while it is recognised
        if upload.image is None:
            return seller_answer(400)
        return await _recognise(request, state, upload.image)
    finally:
        state.held -= 1


async def _health(request: web.Request) -> web.Response:
    """200 while the server can recognise; 503 when draining or the engine is lost."""
    state = request.app[STATE]
    healthy = state.broken is None and not state.draining
    payload = {
        "status": "ok" if healthy else "unavailable",
        "held": state.held,
        "queue_limit": state.config.queue_limit,
        "answers": {str(status): count for status, count in sorted(state.answers.items())},
    }
    if state.draining:
        payload["reason"] = "shutting down"
    elif state.broken is not None:
        payload["reason"] = state.broken
    return json_answer(200 if healthy else 503, payload)


async def _portrait(request: web.Request) -> web.Response:
    # The token is only a dict key: no file system, hence no path traversal.
    jpeg = request.app[STATE].portraits.get(request.match_info["token"])
    if jpeg is None:
        raise web.HTTPNotFound(text="portrait not found or expired")
    return web.Response(body=jpeg, content_type="image/jpeg")


def make_app(config: ServerConfig, engine: Engine) -> web.Application:
    """The server as an ``aiohttp.web.Application`` around a started ``engine``."""
    app = web.Application(client_max_size=config.max_body_bytes,
                          middlewares=[track_requests])
    app[STATE] = ServerState(config, engine)
    app.router.add_route("*", config.path, _api, expect_handler=_expect)
    app.router.add_get(HEALTH_ROUTE, _health)
    app.router.add_get(f"{PORTRAIT_ROUTE}/{{token}}.jpg", _portrait)
    return app


@dataclass(frozen=True)
class ServerHandle:
    """A running server: where it listens, and its state (read in-process)."""

    app: web.Application
    base_url: str
    url: str

    @property
    def state(self) -> ServerState:
        return self.app[STATE]


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@asynccontextmanager
async def running_server(config: ServerConfig, engine: Engine) -> AsyncIterator[ServerHandle]:
    """Start ``engine`` (``FatalRunError`` if it cannot), serve, and on exit drain.

    Leaving the block stops accepting connections, lets the calls in flight finish
    (``shutdown_grace_s`` at most) and then closes the engine.
    """
    await engine.start()
    app = make_app(config, engine)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True,
                           shutdown_timeout=config.shutdown_grace_s,
                           **config.limits.handler_args())
    try:
        await runner.setup()
        await start_site(runner, config.host, config.port, app[STATE].connections)
        port = runner.addresses[0][1]
        base_url = f"http://{_url_host(config.host)}:{port}"
        yield ServerHandle(app=app, base_url=base_url, url=base_url + config.path)
    finally:
        app[STATE].draining = True
        await runner.cleanup()
        app[STATE].refusals.flush()
        await engine.aclose()

