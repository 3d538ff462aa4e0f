"""``batch-ocr-forget OUT --older-than 30d``: argv in, exit code out (``forget`` does it).

Exit codes as ``batch-ocr``'s: 0 done; 2 usage or configuration (no journal, a bad age,
a sealed journal without its key); 3 the journal cannot be written; 75 a run holds it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from batch_ocr import __version__
from batch_ocr.errors import ConfigError, RunLockedError
from batch_ocr.run.journal.forget import forget_older_than
from batch_ocr.run.journal.locks import default_state_path
from batch_ocr.run.journal.state import Journal
from batch_ocr.run.summary import EXIT_FATAL, EXIT_LOCKED, EXIT_OK, EXIT_USAGE
from batch_ocr.settings import load_settings

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([dh]?)$")


def _days(text: str) -> float:
    """``30d``, ``36h`` or ``30`` (days) as days."""
    match = _AGE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not an age like 30d or 36h: {text!r}")
    number = float(match.group(1))
    return number / 24 if match.group(2) == "h" else number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch-ocr-forget",
        description="Drop the recognised fields (names, ID numbers, addresses, portraits' "
        "links) of old rows from a state journal, keeping what a rerun needs to pay "
        "nothing for those images again.",
        epilog="Exit codes: 0 done; 2 usage or configuration error (a sealed journal "
        "needs BATCH_OCR_JOURNAL_KEY); 3 the journal cannot be written; 75 a run is "
        "using it.")
    parser.add_argument("output", metavar="OUT", type=Path,
                        help="the output whose journal (OUT.state.sqlite) is aged")
    parser.add_argument("--older-than", required=True, type=_days, metavar="AGE",
                        help="rows recorded longer ago than this: 30d, 36h (required)")
    parser.add_argument("--state", type=Path, metavar="PATH",
                        help="the journal, when not beside OUT (default: OUT.state.sqlite)")
    parser.add_argument("--config", type=Path, metavar="PATH",
                        help="TOML config file holding journal_key (default: as batch-ocr)")
    parser.add_argument("--version", action="version", version=f"batch-ocr {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``batch-ocr-forget``; returns the exit code."""
    args = build_parser().parse_args(argv)
    state = args.state or default_state_path(args.output)
    try:
        if not state.is_file():
            raise ConfigError(f"no state journal at {state}")
        settings = load_settings({}, config_path=args.config)
        with Journal(state, key=settings.journal_key_value()) as journal:
            done = forget_older_than(journal, args.older_than)
    except RunLockedError as exc:
        print(f"batch-ocr-forget: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except ConfigError as exc:
        print(f"batch-ocr-forget: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"batch-ocr-forget: fatal: cannot write the state journal {state}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FATAL
    print(f"batch-ocr-forget: fields dropped from {done.rows} rows older than "
          f"{args.older_than:g} days; {done.kept} newer rows kept as they were; "
          f"{done.answers} answers of unfinished pages dropped", file=sys.stderr)
    return EXIT_OK
