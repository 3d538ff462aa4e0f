"""``batch-ocr-report``: rebuild the review page from an output file, calling nothing.

Exit codes: 0 written; 1 the page could not be written; 2 bad arguments or an input
that cannot be read (argparse's own usage errors are 2 as well).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from batch_ocr.report.load import ReportInputError, load_rows
from batch_ocr.report.mask import mask_row_dict
from batch_ocr.report.page import write_report
from batch_ocr.report.sources import image_finder
from batch_ocr.run.summary import SummaryJson, report_facts

PROG = "batch-ocr-report"
EXIT_OK = 0
EXIT_WRITE_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option has help text; a test checks it)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Build the offline HTML review page of a batch-ocr run from its "
        "JSONL, CSV or Excel (.xlsx) output. Calls no API and makes no network request.",
    )
    parser.add_argument(
        "output", type=Path, metavar="OUTPUT", help="the run's output file (.jsonl, .csv or .xlsx)"
    )
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        required=True,
        metavar="PATH.html",
        help="where to write the page (created with mode 0600)",
    )
    parser.add_argument(
        "--images",
        type=Path,
        nargs="+",
        action="extend",
        default=[],
        metavar="DIR",
        help="source folder(s) the 'file' column is relative to, for "
        "thumbnails; the first folder that has the file wins",
    )
    parser.add_argument(
        "--summary-json",
        type=Path,
        metavar="PATH",
        help="a JSON object of run facts to show in the header "
        "(calls made, cost estimate, engine, run time, ...)",
    )
    parser.add_argument(
        "--mask",
        action="store_true",
        help="mask personal data, show pages only blurred into squares (cards still "
        "outlined) and leave out portraits",
    )
    parser.add_argument(
        "--show-faces",
        action="store_true",
        help="with --mask, still include clear pages and portraits",
    )
    return parser


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ReportInputError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{path}: not JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path}: cannot read ({exc})") from None
    if not isinstance(value, dict):
        raise ReportInputError(f"{path}: the summary must be a JSON object")
    try:
        facts = SummaryJson.model_validate(value)
    except ValidationError as exc:
        missing = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        raise ReportInputError(f"{path}: not a batch-ocr --summary-json file (check: "
                               f"{', '.join(missing[:5])})") from None
    return report_facts(facts)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        for folder in args.images:
            if not folder.is_dir():
                raise ReportInputError(f"--images {folder}: no such folder")
        rows = load_rows(args.output)
        summary = _read_summary(args.summary_json) if args.summary_json else None
    except ReportInputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    if args.mask:
        rows = [mask_row_dict(row) for row in rows]
    try:
        write_report(
            rows,
            args.out,
            image_for=image_finder(args.images) if args.images else None,
            summary=summary,
            masked=args.mask,
            show_faces_when_masked=args.show_faces,
            # A relative portrait_file is relative to the output's folder.
            portrait_dir=args.output.parent,
        )
    except OSError as exc:
        print(f"{PROG}: error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    print(f"Wrote {args.out} ({len(rows)} rows{', masked' if args.mask else ''})")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
