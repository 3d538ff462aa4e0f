"""The ``batch-ocr`` command: argv in, exit code out. Nothing else touches argv or exits.

Exit codes (``summary.exit_status``): 0 every image ended ok/not_id_card/scan_failed;
1 some rows are rejected/error; 2 usage or configuration error; 3 fatal condition
(credentials, quota, clock, output, a lost Dask cluster); 75 another run holds the
state or writes the same output; 130 interrupted (SIGINT); 143 SIGTERM.

The run itself (and with it the network and imaging stacks) is imported only once the
arguments are parsed, so ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import gc
import logging
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from batch_ocr import __version__
from batch_ocr.engines.registry import (
    ENGINE_CHOICES,
    ENGINES,
    EngineOptions,
    create_engine,
    engine_names,
)
from batch_ocr.errors import ConfigError, FatalRunError, RunLockedError
from batch_ocr.run import preflight
from batch_ocr.run.output.file import STDOUT
from batch_ocr.run.preflight import PlannedPath
from batch_ocr.run.present.pairing import PAIR_BY
from batch_ocr.run.present.review import DOCUMENT_RISKS
from batch_ocr.run.progress import Progress
from batch_ocr.run.summary import (
    EXIT_FATAL,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    RunSummary,
    SummaryJson,
    exit_status,
    summary_json,
    summary_text,
)
from batch_ocr.settings import SETTING_KEYS, default_of, env_var, load_settings

if TYPE_CHECKING:
    from batch_ocr.run.runner import Runner

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
        # One line: a usage error is read on a terminal, the options are in --help.
        usage="%(prog)s [OPTIONS] SRC [SRC ...] -o OUT",
        description="Recognise a folder of Chinese ID card scans into one CSV/JSONL row per image.",
        epilog="Exit codes: 0 all images handled; 1 some rows rejected/error; 2 usage or "
        "configuration error; 3 fatal API condition (credentials, quota, clock), output "
        "not writable or Dask cluster lost; "
        "75 another run is using the same state or writing the same output; "
        "130 interrupted; 143 terminated.",
    )
    parser.add_argument("sources", nargs="+", metavar="SRC", type=Path,
                        help="folders (walked recursively) or single image files")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="output file ending in .csv, .jsonl or .xlsx; '-' writes JSONL to "
                        "stdout "
                        "(required, no default)")
    parser.add_argument("--format", choices=("csv", "jsonl", "xlsx"),
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
    parser.add_argument("--engine", choices=engine_names(),
                        help=_setting_help("engine", "; ".join(
                            f"{name} ({what})" for name, what in ENGINE_CHOICES.items())
                            + "; or auto: api when credentials are configured, else local"))
    parser.add_argument("--verify", action="store_const", const=True,
                        help=_setting_help("verify", "with --engine api: also read every card "
                                           "offline, free, and flag each field the API read "
                                           "otherwise (disagree:<column>)", "off"))
    parser.add_argument("--workers", type=int, metavar="N",
                        help=_setting_help("workers", "worker processes of the local engine",
                                           "one per core"))
    parser.add_argument("--dask", metavar="ADDRESS",
                        help=_setting_help("dask", "run the local engine on the Dask cluster "
                                           "whose scheduler is at ADDRESS (tcp://host:8786; "
                                           "the 'dask' extra)", "local worker processes"))
    parser.add_argument("--state", type=Path, metavar="PATH",
                        help=_setting_help("state", "state journal",
                                           "OUT.state.sqlite beside the output"))
    parser.add_argument("--ca-bundle", type=Path, metavar="PEM",
                        help=_setting_help("ca_bundle", "extra CA certificates to trust "
                                           "(verification stays on)", "the system's CAs only"))
    parser.add_argument("--follow-links", action="store_const", const=True, help=_setting_help(
        "follow_links", "walk symbolic links to folders in SRC (each real folder once, "
        "never a loop)", "off: named as ignored"))
    parser.add_argument("--no-bom", dest="bom", action="store_const", const=False,
                        help=_setting_help("bom", "write CSV without the UTF-8 BOM (the "
                                           "setting says whether to write it)", "BOM on"))
    parser.add_argument("--review-on", metavar="RISK,...",
                        help=_setting_help("review_on", "document risks that also flag rows "
                                           f"for review: {', '.join(DOCUMENT_RISKS)} (they "
                                           "stay in warnings and checks either way)",
                                           "none: only doubts about the reading flag a row"))
    _add_run_flags(parser)
    return parser


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    """Flags that shape one run (not settings: no config key or environment variable)."""
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
    parser.add_argument("--redo-engine-older-than", type=_engine_version, metavar="VERSION",
                        help="read again the pages this run's engine recorded at a version "
                        "older than VERSION (like 2 or 1.3; the start line says the "
                        "engine's version, the journal keeps it with every page; a page "
                        "recorded before versions were kept counts as older). Offline "
                        "this costs nothing; through the API each page is paid again: "
                        "--dry-run first says how many and what they would cost "
                        "(default: off)")
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
                        help="also write the run summary as JSON here: files_found (files "
                        "walked: images and documents), pages_read (an image file or one "
                        "page of a PDF/TIFF), cards_read (rows with a card side read), rows "
                        "by status, calls, elapsed_s, pages_per_s, ... (default: none)")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", default=False,
                           help="print nothing when the run succeeds (exit 0): no start "
                           "line, bar or summary; warnings and errors still go to stderr, "
                           "and so does the summary of a run that exits non-zero "
                           "(default: off)")
    verbosity.add_argument("-v", "--verbose", action="store_true", default=False,
                           help="log each file with its status and error (file names only, "
                           "never card fields) (default: off)")
    parser.add_argument("--version", action="version", version=f"batch-ocr {__version__}")


def unknown_option_message(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str | None:
    """The error for the first ``--option`` of ``argv`` the parser does not know, with
    the nearest known one; None when there is none.

    Checked before argparse parses: it would report a misspelt ``--ouput c.csv`` as a
    missing ``-o/--output`` and a misspelt ``--concurency 4`` with bare usage. A prefix
    of a known option is left to argparse, which takes unambiguous abbreviations.
    """
    known = [option for option in parser._option_string_actions if option.startswith("--")]
    for token in argv:
        if token == "--":
            break  # what follows is SRC, whatever it looks like
        if not token.startswith("--"):
            continue
        name = token.split("=", 1)[0]
        if any(option.startswith(name) for option in known):
            continue
        import difflib  # only for a mistyped option
        # Compared without the dashes every option shares (they made --frobnicate
        # "near" --force); a typo of one or two letters scores 0.9 and more.
        nearest = difflib.get_close_matches(name[2:], [option[2:] for option in known],
                                            n=1, cutoff=0.75)
        hint = f": did you mean --{nearest[0]}?" if nearest else " (see batch-ocr --help)"
        return f"unrecognized option {name}{hint}"
    return None


def _engine_version(text: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        raise argparse.ArgumentTypeError(f"not an engine version (like 2 or 1.3): {text!r}")
    return text


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _flag_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Only the settings the user gave on the command line."""
    # A flag that sets a setting has its key as its ``dest`` (``--no-bom``: ``bom``).
    return {key: getattr(args, key) for key in SETTING_KEYS if hasattr(args, key)}


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

    handled: list[int] = []
    replaced: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            handled.append(signum)
        except NotImplementedError:
            # Windows' event loops have no add_signal_handler: a plain handler that
            # hands the signal to the loop does the same job there.
            with contextlib.suppress(ValueError, OSError):
                replaced[signum] = signal.signal(
                    signum, lambda num, _frame: loop.call_soon_threadsafe(on_signal, num))
        except (ValueError, RuntimeError):
            pass  # not the main thread (called from Python): the caller owns signals
    try:
        summary = await task
    except asyncio.CancelledError:
        cancelled = runner.summary_so_far()
        if cancelled is None:
            raise
        summary = cancelled
    finally:
        for handled_signum in handled:
            loop.remove_signal_handler(handled_signum)
        for replaced_signum, previous in replaced.items():
            signal.signal(replaced_signum, previous)
    terminated = bool(signals_seen) and signals_seen[0] == signal.SIGTERM
    return summary, terminated


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("batch-ocr: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def _prepare(args: argparse.Namespace) -> tuple[Runner, Progress]:
    """Settings, engine and runner from the arguments; ``ConfigError`` when they clash."""
    from batch_ocr.run.pipeline import RunOptions
    from batch_ocr.run.runner import OutputView, Runner

    settings = load_settings(_flag_settings(args), config_path=args.config,
                             engine_sections=tuple(ENGINES))
    engine = create_engine(settings, EngineOptions(max_calls=args.max_calls,
                                                   dry_run=args.dry_run, verbose=args.verbose))
    options = RunOptions(dry_run=args.dry_run, force=args.force,
                         retry_failed=args.retry_failed, max_calls=args.max_calls,
                         portraits_dir=args.portraits, concurrency=settings.concurrency,
                         follow_links=settings.follow_links,
                         own_paths=tuple(filter(None, [args.summary_json, args.report])),
                         redo_engine_older_than=args.redo_engine_older_than)
    view = OutputView(as_of=args.as_of or datetime.date.today(), mask=args.mask,
                      pair=args.pair, pair_by=args.pair_by, review_on=settings.review_on)
    progress = Progress(tty=sys.stderr.isatty(), verbose=args.verbose, quiet=args.quiet,
                        calls=lambda: engine.counters().calls,
                        counters=lambda: runner.batch.counters if runner.batch else None,
                        billed=engine.billed)
    announce = (f"batch-ocr: engine: {engine.name} ({engine.description}; "
                f"version {engine.version})")

    def on_start() -> None:  # the lock is ours: the run really starts
        if not args.quiet:
            print(announce, file=sys.stderr)
        own = runner.options.own_paths + tuple(filter(None, [args.portraits]))
        progress.start(list(args.sources), own, follow_links=settings.follow_links)

    runner = Runner(settings, args.sources, args.output, engine=engine, options=options,
                    view=view, on_row=progress.on_row, on_start=on_start)
    missing = [str(s) for s in args.sources if not s.exists() and not s.is_symlink()]
    if missing:
        raise ConfigError(f"no such file or folder: {', '.join(missing)}")
    if args.report is not None and args.output == STDOUT:
        raise ConfigError("--report reads the output back: give -o a file, not '-'")
    return runner, progress


def main(argv: Sequence[str] | None = None, *,
         prepared: Callable[[], None] | None = None) -> int:
    """Entry point of ``batch-ocr``; returns the exit code.

    ``prepared`` is called once settings, engine and runner are made, just before the
    run (``command`` uses it).
    """
    parser = build_parser()
    unknown = unknown_option_message(parser, sys.argv[1:] if argv is None else argv)
    if unknown is not None:
        parser.error(unknown)  # exit 2, as argparse's own usage errors
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        runner, progress = _prepare(args)
    except ConfigError as exc:
        print(f"batch-ocr: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if prepared is not None:
        prepared()
    try:
        # Fail before paying: every path the run will write is tried first.
        preflight.check_all([*runner.planned_paths(), *_planned_cli_paths(args)])
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
    finally:
        progress.clear()  # off the screen before any message or the summary
    code = exit_status(summary, terminated=terminated)
    if not (args.quiet and code == EXIT_OK):  # --quiet: nothing to say about a success
        print(summary_text(summary), file=sys.stderr)
    if summary.fatal_error is not None:
        print(f"batch-ocr: fatal: {summary.fatal_error}", file=sys.stderr)
    facts = summary_json(summary, code)
    if args.summary_json is not None:
        from batch_ocr.run.runner import write_summary_json

        try:
            write_summary_json(args.summary_json, facts)
        except OSError as exc:
            print(f"batch-ocr: fatal: cannot write the summary JSON {args.summary_json}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return EXIT_FATAL
    if args.report is not None and not args.dry_run:
        code = _write_report(args, SummaryJson.model_validate(facts), runner) or code
    return code


def command() -> NoReturn:
    """The ``batch-ocr`` command: ``main`` in a process of its own, then exit.

    The process is the run's alone, so the garbage collector is spared what it would
    walk for nothing (tests/benchmarks, throughput). Start-up only allocates what lives
    to the end (modules, settings): the collector is off until the run starts (115
    collections, 20 ms, while importing; ``batch_ocr.__main__`` turns it off before the
    first import), and what start-up made is then frozen out of its way (a full
    collection of it took 0.05-0.1 s). Everything is written and closed when ``main``
    returns, so what the run leaves is frozen out of the interpreter's exit-time
    collections (0.3 s after 2,000 images).
    """
    gc.disable()
    code = main(prepared=_collect_from_here)
    gc.freeze()
    sys.exit(code)


def _collect_from_here() -> None:
    gc.freeze()
    gc.enable()


def _planned_cli_paths(args: argparse.Namespace) -> list[PlannedPath]:
    """What the CLI itself writes after the run: the summary and the review page."""
    planned = []
    if args.summary_json is not None:
        planned.append(PlannedPath(args.summary_json, "the summary JSON"))
    if args.report is not None and not args.dry_run:
        planned.append(PlannedPath(args.report, "the review page"))
    return planned


def _write_report(args: argparse.Namespace, facts: SummaryJson, runner: Runner) -> int:
    """Write ``--report`` from the output as written; returns 3 if that failed, else 0."""
    from batch_ocr.report import write_run_report

    # Said first: a page of 10,000 photos takes minutes after the summary.
    if not args.quiet:
        print(f"batch-ocr: writing the review page {args.report}", file=sys.stderr)
    started = time.monotonic()
    try:
        # A workbook is not read back: its rows come from the journal it was written from.
        rows = runner.image_records() if runner.fmt == "xlsx" else None
        write_run_report(Path(args.output), args.report, sources=args.sources,
                         facts=facts, masked=args.mask, rows=rows)
    except (OSError, ConfigError) as exc:
        # An output that cannot be written is fatal (docs/reference.md, "Exit codes"), not
        # a file's error.
        print(f"batch-ocr: fatal: cannot write the review page {args.report}: {exc}",
              file=sys.stderr)
        return EXIT_FATAL
    if not args.quiet:
        print(f"batch-ocr: review page written in {time.monotonic() - started:.1f} s",
              file=sys.stderr)
    return 0
