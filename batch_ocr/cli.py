"""The ``batch-ocr`` command: argv in, exit code out. Nothing else touches argv or exits.

Exit codes: 0 every image ended ok/not_id_card/scan_failed; 1 some rows are
rejected/error; 2 usage or configuration error; 3 fatal API condition (credentials,
quota, clock); 75 another run holds the state; 130 interrupted (SIGINT); 143 SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from batch_ocr import __version__
from batch_ocr.engines import ENGINE_NAMES, resolve_engine_name
from batch_ocr.errors import ConfigError, FatalRunError, RunLockedError
from batch_ocr.pairing import PAIR_BY
from batch_ocr.pipeline import RunOptions, RunSummary
from batch_ocr.private_files import open_private
from batch_ocr.rows import Row
from batch_ocr.runner import OutputView, Runner
from batch_ocr.sanitize import printable
from batch_ocr.settings import Settings, default_of, env_var, load_settings
from batch_ocr.statuses import CLEAN_STATUSES, STATUSES

EXIT_OK = 0
EXIT_FILE_ERRORS = 1
EXIT_USAGE = 2
EXIT_FATAL = 3
EXIT_LOCKED = 75
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
#: After a first Ctrl-C, in-flight calls get this long to finish before being cut.
GRACE_PERIOD_S = 30.0

log = logging.getLogger("batch_ocr")


def _setting_help(key: str, text: str, default_text: str | None = None) -> str:
    default = default_of(key)
    shown = default_text or ("none" if default is None else default)
    return f"{text} (default: {shown}; env {env_var(key)})"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every option says its default and environment variable."""
    parser = argparse.ArgumentParser(
        prog="batch-ocr",
        description="Recognise a folder of Chinese ID card scans into one CSV/JSONL row per image.",
        epilog="Exit codes: 0 all images handled; 1 some rows rejected/error; 2 usage or "
        "configuration error; 3 fatal API condition (credentials, quota, clock); "
        "75 another run is using the same state; 130 interrupted; 143 terminated.",
    )
    parser.add_argument("sources", nargs="+", metavar="SRC", type=Path,
                        help="folders (walked recursively) or single image files")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="output file ending in .csv or .jsonl; '-' writes JSONL to stdout "
                        "(required, no default)")
    parser.add_argument("--format", choices=("csv", "jsonl"),
                        help=_setting_help("format", "force the output format",
                                           "from the output's extension"))
    parser.add_argument("--endpoint", metavar="URL", help=_setting_help("endpoint", "API URL"))
    parser.add_argument("--source", metavar="NAME",
                        help=_setting_help("source", "X-Source header sent to the gateway"))
    parser.add_argument("--concurrency", type=int, metavar="N",
                        help=_setting_help("concurrency", "requests in flight at most"))
    parser.add_argument("--qps", type=float, metavar="X",
                        help=_setting_help("qps", "cap on requests started per second",
                                           "no cap"))
    parser.add_argument("--max-attempts", type=int, metavar="N",
                        help=_setting_help("max_attempts", "attempts per image, first included"))
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=_setting_help("timeout", "seconds to wait for one answer"))
    parser.add_argument("--engine", choices=ENGINE_NAMES,
                        help=_setting_help("engine", "api (the paid service), local (offline, "
                                           "the 'local' extra), or auto: api when "
                                           "credentials are configured, else local"))
    parser.add_argument("--workers", type=int, metavar="N",
                        help=_setting_help("workers", "worker processes of the local engine",
                                           "one per core"))
    parser.add_argument("--state", type=Path, metavar="PATH",
                        help=_setting_help("state", "state journal",
                                           "OUT.state.sqlite beside the output"))
    parser.add_argument("--ca-bundle", type=Path, metavar="PEM",
                        help=_setting_help("ca_bundle", "extra CA certificates to trust "
                                           "(verification stays on)", "the system's CAs only"))
    parser.add_argument("--no-bom", dest="bom", action="store_const", const=False,
                        help=_setting_help("bom", "write CSV without the UTF-8 BOM (the "
                                           "setting says whether to write it)", "BOM on"))
    parser.add_argument("--config", type=Path, metavar="PATH",
                        help="TOML config file (default: ./batch-ocr.toml, else "
                        "~/.config/batch-ocr/config.toml)")
    parser.add_argument("--force", action="store_true", default=False,
                        help="redo every image, even those already done (default: off)")
    parser.add_argument("--retry-failed", action="store_true", default=False,
                        help="also retry images whose earlier failure was permanent "
                        "(default: off)")
    parser.add_argument("--dry-run", action="store_true", default=False,
                        help="check everything, send nothing, say how many calls a real run "
                        "would make (default: off)")
    parser.add_argument("--max-calls", type=int, metavar="N",
                        help="stop after N calls; the rest waits for the next run "
                        "(default: no limit)")
    parser.add_argument("--portraits", type=Path, metavar="DIR",
                        help="save each front's portrait to DIR/<file path>.<ext> right after "
                        "its call (default: off)")
    parser.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                        help="judge the 'expired' check against this date (default: today)")
    parser.add_argument("--pair", action="store_true", default=False,
                        help="one row per card (front + back) instead of per image "
                        "(default: off)")
    parser.add_argument("--pair-by", choices=PAIR_BY, default="auto",
                        help="how images are grouped into cards: file names with the side "
                        "marker removed, then one front + one back per folder (auto); names "
                        "only (stem); or whole folders (folder) (default: auto)")
    parser.add_argument("--mask", action="store_true", default=False,
                        help="mask names, ID numbers and addresses in every output "
                        "(default: off)")
    parser.add_argument("--report", type=Path, metavar="PATH.html",
                        help="also write an offline review page of the output (default: none; "
                        "batch-ocr-report rebuilds it later)")
    parser.add_argument("--summary-json", type=Path, metavar="PATH",
                        help="also write the run summary as JSON here (default: none)")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", default=False,
                           help="print only errors and the summary (default: off)")
    verbosity.add_argument("-v", "--verbose", action="store_true", default=False,
                           help="log each file with its status and error (file names only, "
                           "never card fields) (default: off)")
    parser.add_argument("--version", action="version", version=f"batch-ocr {__version__}")
    return parser


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _flag_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Only the settings the user gave on the command line."""
    return {
        "format": args.format,
        "endpoint": args.endpoint,
        "source": args.source,
        "concurrency": args.concurrency,
        "qps": args.qps,
        "max_attempts": args.max_attempts,
        "timeout": args.timeout,
        "state": args.state,
        "ca_bundle": args.ca_bundle,
        "bom": args.bom,
        "engine": args.engine,
        "workers": args.workers,
    }


def exit_code(summary: RunSummary, *, terminated: bool = False) -> int:
    """The exit code a cron job acts on."""
    if summary.fatal_error is not None:
        return EXIT_FATAL
    if summary.interrupted:
        return EXIT_SIGTERM if terminated else EXIT_SIGINT
    if any(status not in CLEAN_STATUSES for status in summary.rows_by_status.elements()):
        return EXIT_FILE_ERRORS
    return EXIT_OK


def summary_text(summary: RunSummary, settings: Settings) -> str:
    """The human summary printed on stderr at the end."""
    counts = ", ".join(f"{s} {summary.rows_by_status[s]}" for s in STATUSES
                       if summary.rows_by_status[s])
    lines = [
        f"images found: {summary.images_found}"
        + (f" (other files ignored: {summary.ignored_files})" if summary.ignored_files else ""),
        f"rows written: {summary.rows_written}" + (f" ({counts})" if counts else ""),
    ]
    if summary.already_done:
        lines.append(f"already done in an earlier run: {summary.already_done}")
    if summary.reused:
        lines.append(f"same content as another image, not sent again: {summary.reused}")
    if summary.not_attempted:
        lines.append(f"not attempted (left for the next run): {summary.not_attempted}")
    if summary.dry_run:
        cost = summary.would_call * settings.price_per_call
        lines.append(f"dry run: a real run would make {summary.would_call} calls "
                     f"(about {cost:.2f} CNY at {settings.price_per_call:g} per call)")
    elif summary.engine == "local":
        lines.append("recognised offline by the local engine: no call made, nothing billed")
    else:
        lines.append(f"calls made (each may be billed): {summary.calls}, retries: "
                     f"{summary.retries}")
    lines.append(f"elapsed: {summary.elapsed_s:.1f} s, {summary.images_per_s:.1f} images/s")
    for problem in summary.unreadable_dirs:
        lines.append(f"unreadable folder: {printable(problem)}")
    if summary.budget_exhausted:
        lines.append("stopped at --max-calls; the rest waits for the next run")
    return "\n".join("batch-ocr: " + line for line in lines)


def summary_json(summary: RunSummary, code: int, settings: Settings) -> dict[str, Any]:
    """The machine-readable summary for ``--summary-json``."""
    return {
        "exit_code": code,
        "images_found": summary.images_found,
        "rows_written": summary.rows_written,
        "rows_by_status": {s: summary.rows_by_status[s] for s in STATUSES},
        "ignored_files": summary.ignored_files,
        "already_done": summary.already_done,
        "reused": summary.reused,
        "not_attempted": summary.not_attempted,
        "calls": summary.calls,
        "retries": summary.retries,
        "would_call": summary.would_call,
        "estimated_cost": round(
            (summary.would_call if summary.dry_run else summary.calls) * settings.price_per_call, 2
        ),
        "elapsed_s": round(summary.elapsed_s, 3),
        "images_per_s": round(summary.images_per_s, 2),
        "fatal_error": summary.fatal_error,
        "fatal_code": summary.fatal_code,
        "interrupted": summary.interrupted,
        "budget_exhausted": summary.budget_exhausted,
        "dry_run": summary.dry_run,
        "engine": summary.engine,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


class Progress:
    """A one-line progress display on a TTY; periodic plain lines otherwise."""

    def __init__(self, *, tty: bool, verbose: bool, quiet: bool) -> None:
        self.tty = tty
        self.verbose = verbose
        self.quiet = quiet
        self._last_s = 0.0
        self._started_s = time.monotonic()

    def on_row(self, row: Row, summary: RunSummary) -> None:
        if self.verbose:
            detail = f" [{row.error_code}] {row.error_message}" if row.error_code else ""
            log.info("%s", printable(f"{row.file}: {row.status}{detail}"))
        if self.quiet:
            return
        now = time.monotonic()
        if now - self._last_s < (0.2 if self.tty else 10.0):
            return
        self._last_s = now
        done = summary.rows_written
        rate = done / max(now - self._started_s, 1e-9)
        failed = sum(n for s, n in summary.rows_by_status.items() if s not in CLEAN_STATUSES)
        text = (f"{done} done / {summary.images_found} found, {failed} failed, "
                f"{summary.calls} calls, {rate:.1f} images/s")
        if self.tty:
            sys.stderr.write("\r\x1b[K" + text)
            sys.stderr.flush()
        else:
            log.info("progress: %s", text)

    def clear(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


async def _run_with_signals(runner: Runner) -> tuple[RunSummary, bool]:
    """Run; first SIGINT/SIGTERM stops gracefully, a second one (or the grace period) cuts."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(runner.run())
    signals_seen: list[int] = []

    def on_signal(signum: int) -> None:
        signals_seen.append(signum)
        if len(signals_seen) == 1:
            log.warning("stopping: finishing the calls in flight (again to stop at once)")
            runner.request_stop()
            loop.call_later(GRACE_PERIOD_S, task.cancel)
        else:
            task.cancel()

    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            handled.append(signum)
        except (ValueError, RuntimeError):
            pass  # not the main thread (called from Python): the caller owns signals
    try:
        summary = await task
    except asyncio.CancelledError:
        assert runner.batch is not None
        summary = runner.batch.summary
        summary.interrupted = True
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
    terminated = bool(signals_seen) and signals_seen[0] == signal.SIGTERM
    return summary, terminated


def _announce_engine(engine_name: str, *, quiet: bool) -> None:
    if not quiet:
        where = ("offline, nothing leaves this machine" if engine_name == "local"
                 else "each call may be billed")
        print(f"batch-ocr: engine: {engine_name} ({where})", file=sys.stderr)


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("batch-ocr: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``batch-ocr``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        settings = load_settings(_flag_settings(args), config_path=args.config)
        engine_name = resolve_engine_name(settings)
        if engine_name == "api" and not args.dry_run:
            settings.require_credentials()
        options = RunOptions(dry_run=args.dry_run, force=args.force,
                             retry_failed=args.retry_failed, max_calls=args.max_calls,
                             portraits_dir=args.portraits)
        view = OutputView(as_of=args.as_of or datetime.date.today(), mask=args.mask,
                          pair=args.pair, pair_by=args.pair_by)
        progress = Progress(tty=sys.stderr.isatty(), verbose=args.verbose, quiet=args.quiet)
        runner = Runner(settings, args.sources, args.output, options=options, view=view,
                        on_row=progress.on_row,
                        on_start=lambda: _announce_engine(engine_name, quiet=args.quiet))
        missing = [str(s) for s in args.sources if not s.exists() and not s.is_symlink()]
        if missing:
            raise ConfigError(f"no such file or folder: {', '.join(missing)}")
    except ConfigError as exc:
        print(f"batch-ocr: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        summary, terminated = asyncio.run(_run_with_signals(runner))
    except RunLockedError as exc:
        print(f"batch-ocr: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except FatalRunError as exc:
        print(f"batch-ocr: fatal: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except ConfigError as exc:
        print(f"batch-ocr: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    progress.clear()
    code = exit_code(summary, terminated=terminated)
    print(summary_text(summary, settings), file=sys.stderr)
    if summary.fatal_error is not None:
        print(f"batch-ocr: fatal: {summary.fatal_error}", file=sys.stderr)
    facts = summary_json(summary, code, settings)
    if args.summary_json is not None:
        with open_private(args.summary_json) as handle:
            json.dump(facts, handle, indent=2)
            handle.write("\n")
    if args.report is not None and not args.dry_run:
        code = _write_report(args, facts) or code
    return code


#: Run facts shown in the review page's header (the rest of --summary-json is noise there).
REPORT_FACTS = ("engine", "calls", "retries", "elapsed_s", "images_found", "already_done",
                "not_attempted", "exit_code", "finished_at")


def _write_report(args: argparse.Namespace, facts: dict[str, Any]) -> int:
    """Write ``--report`` from the output as written; returns 1 if that failed, else 0."""
    from batch_ocr.report import image_finder, load_rows, write_report

    if args.output == "-":
        print("batch-ocr: --report needs an output file, not stdout", file=sys.stderr)
        return EXIT_FILE_ERRORS
    try:
        rows = load_rows(Path(args.output))
        sources = [s if s.is_dir() else s.parent for s in args.sources]
        shown = {key: facts[key] for key in REPORT_FACTS}
        shown.update(cost_estimate=facts["estimated_cost"], currency="CNY")
        write_report(rows, args.report, image_for=image_finder(sources), summary=shown,
                     masked=args.mask, portrait_dir=Path(args.output).parent)
    except (OSError, ConfigError) as exc:
        print(f"batch-ocr: cannot write the report: {exc}", file=sys.stderr)
        return EXIT_FILE_ERRORS
    return 0
