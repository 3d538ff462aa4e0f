"""``batch-ocr-server``: serve the provider's API with the offline engine until SIGTERM.

The only module of the server that touches argv, stdout and exit codes. When ready it
prints exactly one line, ``listening on http://HOST:PORT/PATH``, as the emulator does.
Credentials (the SecretId/SecretKey clients sign with) come from the environment
(``BATCH_OCR_SECRET_ID``, ``BATCH_OCR_SECRET_KEY``) or the config file, as batch-ocr's
own; so do ``workers`` and ``dask``. Exit codes: 0 stopped by SIGINT/SIGTERM; 2 usage
or configuration error; 3 the engine cannot start (a Dask scheduler not reached).
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
from batch_ocr.provider import DEFAULT_API_PATH, PORTRAIT_TTL_S
from batch_ocr.server import DEFAULT_HOST, DEFAULT_PORT, MIN_QUEUE, QUEUE_PER_ENGINE_SLOT
from batch_ocr.server.app import ServerConfig, running_server
from batch_ocr.settings import Settings, env_var, load_settings

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FATAL = 3

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
    return settings


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
    config = ServerConfig(
        secret_keys={settings.api.secret_id: settings.api.secret_key_value()},
        host=args.host, port=args.port, path="/" + args.path.strip().lstrip("/"),
        portrait_ttl_s=args.portrait_ttl,
    )
    # The queue is sized from the engine, known once it has reached its workers.
    await engine.start()
    config = dataclasses.replace(config, queue_limit=_queue_limit(args.queue, engine, settings))
    async with running_server(config, engine) as handle:
        print(f"listening on {handle.url}", flush=True)
        log.info("engine: offline, %s; queue: %d calls",
                 f"on the Dask cluster at {settings.local.dask}" if settings.local.dask
                 else "local worker processes", config.queue_limit)
        await stop.wait()
        log.info("stopping: finishing the calls in flight")
        handle.state.draining = True


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
