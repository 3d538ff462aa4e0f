"""``batch-ocr-report`` on each output format of one real run: the same page.

Not beside the browser tests: their Playwright session keeps an event loop running
until the end of their module, and a run (``asyncio.run``) cannot start inside it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from batch_ocr.cli import main
from batch_ocr.report import cli as report_cli
from tests.e2e_support import FIXTURES, SAMPLES, emulator_in_thread, read_rows

pytestmark = pytest.mark.usefixtures("demo_keys")

#: The one line of a page that differs between two pages of the same rows.
GENERATED = re.compile(r"<dt>Report generated</dt><dd>[^<]*</dd>")


def embedded_entries(document: str) -> list[dict[str, Any]]:
    start = document.index('id="report-data">') + len('id="report-data">')
    data: dict[str, Any] = json.loads(document[start : document.index("</script>", start)])
    return list(data["entries"])


@pytest.mark.slow  # three runs through the emulator and three pages, 1.2 s
def test_a_workbook_rebuilds_the_page_its_runs_csv_and_jsonl_give(tmp_path: Path) -> None:
    """``batch-ocr-report results.xlsx``: the page of the same run's rows as from its
    CSV and its JSONL. One journal: the CSV and the JSONL are written from the rows the
    workbook's run paid for (no call), as a user would ask for them afterwards."""
    state = tmp_path / "run.state.sqlite"
    outputs = [tmp_path / f"results.{fmt}" for fmt in ("xlsx", "csv", "jsonl")]
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        for output in outputs:
            main([str(SAMPLES), "-o", str(output), "--endpoint", emulator.url,
                  "--state", str(state), "--as-of", "2026-11-24"])
            if output.suffix == ".xlsx":
                calls = emulator.stats()["calls"]
        assert calls > 0 and emulator.stats()["calls"] == calls
    pages = []
    for output in outputs:
        page = tmp_path / f"{output.suffix[1:]}.html"
        assert report_cli.main([str(output), "-o", str(page)]) == 0
        pages.append(GENERATED.sub("", page.read_text(encoding="utf-8")))
    xlsx_page, csv_page, jsonl_page = pages
    entries = embedded_entries(xlsx_page)
    assert len(entries) == len(read_rows(outputs[2])) > 0
    assert any(entry["fields"] for entry in entries) and any(e["flags"] for e in entries)
    assert xlsx_page == csv_page == jsonl_page
