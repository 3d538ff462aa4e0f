"""The review page of a run: one offline HTML file to check results by hand (issue 9).

Public API::

    write_report(rows, out_html, *, image_for=None, summary=None, masked=False,
                 show_faces_when_masked=False, portrait_dir=None) -> None
    load_rows(output_path) -> list[dict]          # JSONL, CSV or .xlsx output, types restored
    image_finder(folders) -> image_for            # ``file`` looked up in source folders

    write_run_report(output, out_html, *, sources, facts, masked=False) -> None

``batch-ocr-report`` (``cli.py``) rebuilds the page from an output file; it is a thin
layer over these. ``batch-ocr --report`` calls ``write_run_report``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from batch_ocr.report.load import ReportInputError, load_rows
from batch_ocr.report.page import write_report
from batch_ocr.report.sources import image_finder
from batch_ocr.run.summary import SummaryJson, report_facts


def write_run_report(
    output: Path, out_html: Path, *, sources: Iterable[Path], facts: SummaryJson,
    masked: bool = False, rows: list[dict[str, Any]] | None = None,
) -> None:
    """The review page of a finished run: its output as written (or ``rows``, for an
    output that is not read back, a workbook), its summary's facts."""
    if rows is None:
        rows = load_rows(output)
    folders = [s if s.is_dir() else s.parent for s in sources]
    write_report(rows, out_html, image_for=image_finder(folders), summary=report_facts(facts),
                 masked=masked, portrait_dir=output.parent)


__all__ = ["ReportInputError", "image_finder", "load_rows", "write_report", "write_run_report"]
