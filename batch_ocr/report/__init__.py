"""The review page of a run: one offline HTML file to check results by hand (issue 9).

Public API::

    write_report(rows, out_html, *, image_for=None, summary=None, masked=False,
                 show_faces_when_masked=False, portrait_dir=None) -> None
    load_rows(output_path) -> list[dict]          # JSONL or CSV output, types restored
    image_finder(folders) -> image_for            # ``file`` looked up in source folders

``batch-ocr-report`` (``cli.py``) rebuilds the page from an output file; it is a thin
layer over these three.
"""

from batch_ocr.report.load import ReportInputError, load_rows
from batch_ocr.report.page import write_report
from batch_ocr.report.sources import image_finder

__all__ = ["ReportInputError", "image_finder", "load_rows", "write_report"]
