"""``batch-ocr-server``: serve the provider's API with the offline engine until SIGTERM.

The only module of the server that touches argv, stdout and exit codes. When ready it
prints exactly one line, ``listening on http://HOST:PORT/PATH``, as the emulator does.
Credentials (the SecretId/SecretKey clients sign with) come from the environment
(``BATCH_OCR_SECRET_ID``, ``BATCH_OCR_SECRET_KEY``) or the config file, as batch-ocr's
own; so do ``workers`` and ``dask``. Exit codes: 0 stopped by SIGINT/SIGTERM; 2 usage
or configuration error; 3 the engine cannot start (a Dask scheduler not reached).

Its logging is set up here too: aiohttp's and asyncio's own warnings (a traceback per
malformed request, one per accept past the open-file limit) are counted into the
server's refusal summary instead of written out, so no client can flood the log.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from batch_ocr.engines.base import Engine
from batch_ocr.engines.registry import ENGINES, EngineOptions, engine_class
from batch_ocr.errors import ConfigError, FatalRunError
from batch_ocr.provider import (
    BODY_TIMEOUT_S,
    DEFAULT_API_PATH,
    HEADER_TIMEOUT_S,
    MAX_CONNECTIONS,
    PORTRAIT_TTL_S,
)
from batch_ocr.provider.connections import ConnectionLimits
from batch_ocr.server import DEFAULT_HOST, DEFAULT_PORT, MIN_QUEUE, QUEUE_PER_ENGINE_SLOT
from batch_ocr.server.app import ServerConfig, running_server
from batch_ocr.server.refusal_log import CountingHandler
from batch_ocr.settings import Settings, env_var, load_settings

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FATAL = 3

#: Open files kept for all but clients' connections: the listening socket, the engine's
#: worker pipes or Dask connections, logs. The connection cap is kept under the
#: open-file limit by this much, so accepting never fails for want of a descriptor.
FD_RESERVE = 128
#: Connections accepted past the cap before it closes others to make room: asyncio
#: accepts up to a listen backlog (aiohttp's 128) per turn of its loop, and a turn or
#: two pass before the sockets closed for room are released.
ACCEPT_OVERSHOOT = 2 * 128
#: Loggers of the libraries under the server, whose warnings are counted, not written.
_LIBRARY_LOGGERS = ("aiohttp.server", "asyncio")

log = logging.getLogger("batch_ocr.server")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option has help text with its default)."""
    parser = argparse.ArgumentParser(
        prog="batch-ocr-server",
        description="Serve the ID card OCR API (the provider's request, signature and "
        "answers) with the offline engine, on local processes or a Dask cluster.",
        epilog=f"Credentials: {env_var('secret_id')} and {env_var('secret_key')} in the "
        "environment, or secret_id/secret_key in the config file. Exit codes: 0 stopped; "
        "2 usage or configuration error; 3 the engine cannot start.",
    )
    add = parser.add_argument
    add("--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)")
    add("--port", type=int, default=DEFAULT_PORT,
        help="port to bind; 0 picks a free one (default: %(default)s)")
    add("--path", default=DEFAULT_API_PATH, help="API path (default: %(default)s)")
    add("--workers", type=int, metavar="N",
        help=f"local engine worker processes (default: one per core; env {env_var('workers')})")
    add("--dask", metavar="ADDRESS",
        help="recognise on the Dask cluster whose scheduler is at ADDRESS, e.g. "
        f"tcp://host:8786 (default: local processes; env {env_var('dask')})")
    add("--queue", type=int, metavar="N",
        help=f"calls held at once; one more is answered 429 (default: {QUEUE_PER_ENGINE_SLOT} "
        f"per image the engine works on at once, at least {MIN_QUEUE})")
    add("--max-connections", type=int, default=MAX_CONNECTIONS, metavar="N",
        help="connections held at once; past it the one waiting longest for its request "
        "is closed (default: %(default)s, lowered to fit the open-file limit)")
    add("--header-timeout", type=float, default=HEADER_TIMEOUT_S, metavar="SECONDS",
        help="a request's headers must arrive within this, else the connection is cut off "
        "(default: %(default)s)")
    add("--body-timeout", type=float, default=BODY_TIMEOUT_S, metavar="SECONDS",
        help="a request's body must arrive within this of its headers, else the connection "
        "is cut off (default: %(default)s)")
    add("--portrait-ttl", type=float, default=PORTRAIT_TTL_S, metavar="SECONDS",
        help="how long an image_url stays valid (default: %(default)s)")
    add("--config", type=Path, metavar="PATH",
        help="TOML config file (default: ./batch-ocr.toml, else ~/.config/batch-ocr/config.toml)")
    add("-v", "--verbose", action="store_true", default=False,
        help="log each call's status and time (never its content) and Dask's own logs "
        "(default: off)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings({"workers": args.workers, "dask": args.dask},
                             config_path=args.config, engine_sections=tuple(ENGINES))
    if not settings.api.secret_id or not settings.api.secret_key:
        raise ConfigError(
            f"no credentials to accept: set {env_var('secret_id')} and {env_var('secret_key')} "
            "in the environment (or secret_id/secret_key in the config file)"
        )
    if args.queue is not None and args.queue < 1:
        raise ConfigError("--queue must be at least 1")
    if args.max_connections < 1:
        raise ConfigError("--max-connections must be at least 1")
    for flag, value in (("--header-timeout", args.header_timeout),
                        ("--body-timeout", args.body_timeout)):
        if not value > 0:
            raise ConfigError(f"{flag} must be more than 0 seconds")
    return settings


def _fit_open_files(max_connections: int) -> int:
    """Raise the soft open-file limit to what ``max_connections`` needs (up to the hard
    limit); return the cap that fits under it.

    Needed: the cap, ``ACCEPT_OVERSHOOT`` and ``FD_RESERVE``. Past the limit, accepting
    fails and waits: a signed call once waited over a minute behind a crowd of slow
    connections.
    """
    import resource  # Unix only, like the signal handling below

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max_connections + ACCEPT_OVERSHOOT + FD_RESERVE
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return max_connections
    raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if raised > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    if raised >= needed:
        return max_connections
    fitted = max(1, raised - ACCEPT_OVERSHOOT - FD_RESERVE)
    log.warning("at most %d connections: the open-file limit is %d (--max-connections %d "
                "needs %d)", fitted, raised, max_connections, needed)
    return fitted


def _queue_limit(requested: int | None, engine: Engine, settings: Settings) -> int:
    if requested is not None:
        return requested
    slots = engine.images_in_flight() or settings.local.workers or os.cpu_count() or 1
    return max(MIN_QUEUE, QUEUE_PER_ENGINE_SLOT * slots)


async def serve(args: argparse.Namespace, settings: Settings, engine: Engine) -> None:
    """Run until SIGINT or SIGTERM; then drain the calls in flight and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    assert settings.api.secret_id is not None
    limits = ConnectionLimits(max_connections=_fit_open_files(args.max_connections),
                              header_timeout_s=args.header_timeout,
                              body_timeout_s=args.body_timeout)
    config = ServerConfig(
        secret_keys={settings.api.secret_id: settings.api.secret_key_value()},
        host=args.host, port=args.port, path="/" + args.path.strip().lstrip("/"),
        portrait_ttl_s=args.portrait_ttl, limits=limits,
    )
    # The queue is sized from the engine, known once it has reached its workers.
    await engine.start()
    config = dataclasses.replace(config, queue_limit=_queue_limit(args.queue, engine, settings))
    refusals = None
    counting = None
    try:
        async with running_server(config, engine) as handle:
            refusals = handle.state.refusals
            counting = CountingHandler(refusals)
            for name in _LIBRARY_LOGGERS:
                logging.getLogger(name).addHandler(counting)
                logging.getLogger(name).propagate = False
            print(f"listening on {handle.url}", flush=True)
            log.info("engine: offline, %s; queue: %d calls; at most %d connections",
                     f"on the Dask cluster at {settings.local.dask}" if settings.local.dask
                     else "local worker processes", config.queue_limit,
                     limits.max_connections)
            await stop.wait()
            log.info("stopping: finishing the calls in flight")
            handle.state.draining = True
    finally:
        if counting is not None:
            for name in _LIBRARY_LOGGERS:
                logging.getLogger(name).removeHandler(counting)
        if refusals is not None:
            refusals.flush()  # what was counted while the server stopped


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("batch-ocr-server: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``batch-ocr-server``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        settings = _settings(args)
        # Always the offline engine, whatever ``engine`` says: this server is what
        # clients of the API call instead of the API.
        engine = engine_class("local").from_settings(settings,
                                                     EngineOptions(verbose=args.verbose))
    except ConfigError as exc:
        print(f"batch-ocr-server: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(serve(args, settings, engine))
    except FatalRunError as exc:
        print(f"batch-ocr-server: fatal: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except OSError as exc:  # address in use, ...
        print(f"batch-ocr-server: {exc}", file=sys.stderr)
        return EXIT_FATAL
    return EXIT_OK
