"""``batch-ocr-emulator``: run the provider emulator until SIGINT/SIGTERM.

The only module of the emulator that touches argv, stdout and exit codes. When the
server is ready it prints exactly one line, ``listening on http://HOST:PORT/PATH``, and
flushes, so a script can start it with ``--port 0`` and read where it went.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from batch_ocr.emulator import (
    DEFAULT_HOST,
    DEMO_SECRET_ID,
    DEMO_SECRET_KEY,
    HANG_S,
)
from batch_ocr.emulator.config import Credential, EmulatorConfig
from batch_ocr.emulator.server import running_emulator
from batch_ocr.provider import DEFAULT_API_PATH, PORTRAIT_TTL_S
from batch_ocr.provider.seller import FixtureError

EXIT_USAGE = 2


def _codes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of codes: {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option has help text)."""
    parser = argparse.ArgumentParser(
        prog="batch-ocr-emulator",
        description="Emulate the ID card OCR API (gateway and seller) on a local port.",
    )
    add = parser.add_argument
    add("--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)")
    add("--port", type=int, default=0, help="port to bind; 0 picks a free one (default: 0)")
    add("--path", default=DEFAULT_API_PATH, help="API path (default: %(default)s)")
    add(
        "--secret-id",
        action="append",
        default=[],
        help=f"accepted SecretId; repeat with --secret-key for several pairs "
        f"(default: the demo pair {DEMO_SECRET_ID})",
    )
    add(
        "--secret-key",
        action="append",
        default=[],
        help="the SecretKey of the matching --secret-id",
    )
    add(
        "--fixtures",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="JSONL file of recorded answers by image sha256 (repeatable)",
    )
    add(
        "--portrait-ttl",
        type=float,
        default=PORTRAIT_TTL_S,
        metavar="SECONDS",
        help="how long an image_url stays valid (default: %(default)s)",
    )
    add("--seed", type=int, default=None, help="seed for latency and faults (default: random)")
    add("--latency-ms", type=float, default=0.0, help="mean added latency per call (default: 0)")
    add(
        "--latency-jitter-ms",
        type=float,
        default=0.0,
        help="latency varies uniformly by +/- this much (default: 0)",
    )
    add("--fail-rate", type=float, default=0.0, help="share of calls answering a provider error")
    add(
        "--fail-codes",
        type=_codes,
        default=(500, 501),
        help="provider error codes to draw from, comma-separated (default: 500,501)",
    )
    add("--html-error-rate", type=float, default=0.0, help="share of calls answering an HTML 502")
    add("--reset-rate", type=float, default=0.0, help="share of calls whose connection is dropped")
    add("--hang-rate", type=float, default=0.0, help="share of calls that never answer in time")
    add(
        "--hang-s",
        type=float,
        default=HANG_S,
        help="a hanging call answers 504 Gateway Time-out after this long (default: %(default)s)",
    )
    add("--qps", type=float, default=None, help="calls per second allowed; over it: 429")
    add("--quota", type=int, default=None, help="billable calls allowed; after them: 429")
    add(
        "--engine",
        choices=("fixtures", "local"),
        default="fixtures",
        help="fixtures: recorded answers, anything else is 'not a card'; local: real "
        "recognition by the offline engine (the 'local' extra) (default: %(default)s)",
    )
    add("--workers", type=int, default=None,
        help="worker processes of the local engine (default: one per core)")
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Build the config; raises ValueError (with a readable message) on bad flags."""
    if len(args.secret_id) != len(args.secret_key):
        raise ValueError("give --secret-id and --secret-key the same number of times")
    pairs = list(zip(args.secret_id, args.secret_key, strict=True)) or [
        (DEMO_SECRET_ID, DEMO_SECRET_KEY)
    ]
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        path=args.path,
        credentials=tuple(Credential(secret_id=i, secret_key=k) for i, k in pairs),
        fixture_paths=tuple(args.fixtures),
        portrait_ttl_s=args.portrait_ttl,
        seed=args.seed,
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        fail_rate=args.fail_rate,
        fail_codes=args.fail_codes,
        html_error_rate=args.html_error_rate,
        reset_rate=args.reset_rate,
        hang_rate=args.hang_rate,
        hang_s=args.hang_s,
        qps=args.qps,
        quota=args.quota,
        engine=args.engine,
        workers=args.workers,
    )


async def serve(config: EmulatorConfig) -> None:
    """Run until SIGINT or SIGTERM, printing the listening line once ready."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows' loops have no add_signal_handler: there Ctrl-C raises
        # KeyboardInterrupt out of asyncio.run, which main() takes as a stop.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with running_emulator(config) as handle:
        print(f"listening on {handle.url}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``batch-ocr-emulator``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValidationError as exc:
        parser.error("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    except ValueError as exc:
        parser.error(str(exc))
    try:
        asyncio.run(serve(config))
    except KeyboardInterrupt:
        return 0
    except FixtureError as exc:
        print(f"batch-ocr-emulator: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # address in use, fixtures file missing, ...
        print(f"batch-ocr-emulator: {exc}", file=sys.stderr)
        return 1
    return 0
