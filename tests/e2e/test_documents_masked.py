"""``--mask`` over documents: ``both`` rows and numbered card rows, in every output.

A user who shares a masked run checks that no full name, ID number or address of any
person on the pages is left in the CSV, the JSONL, the workbook, the ``--pair`` table or
the review page, and that the review page shows no readable picture of a card: each
page only as flat squares, its cards still outlined (docs/cards.md, "Masking").
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from batch_ocr.run.present.masking import mask_address, mask_id_number, mask_name
from tests.card_pages import make_samples, page_bytes, people
from tests.report.report_fakes import is_mosaic
from tests.skips import needs_local

pytestmark = [
    needs_local,
    pytest.mark.slow,
]


def _scans(tmp_path: Path) -> tuple[Path, list[Any]]:
    """``day.pdf``: page 1 one person's front and back, page 2 two people's four sides;
    ``four.png``: the four sides again, as an image."""
    samples = make_samples()
    a, b = people(2, seed=21)
    copy = samples.CardPage("copy", (samples.PageCard("front", a),
                                     samples.PageCard("back", a, upside_down=True)))
    four = samples.CardPage("four", (samples.PageCard("front", a), samples.PageCard("back", a),
                                     samples.PageCard("front", b), samples.PageCard("back", b)),
                            columns=2)  # fmt: skip
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "four.png").write_bytes(page_bytes(four))
    pages = [Image.open(io.BytesIO(page_bytes(p, seed=n))).convert("RGB")
             for n, p in enumerate((copy, four), start=1)]  # fmt: skip
    samples.save_pages_pdf(pages, scans / "day.pdf")
    return scans, [a, b]


def _run(tmp_path: Path, scans: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "batch_ocr", str(scans), "--engine", "local", "--workers", "1",
         "--mask", "--state", str(tmp_path / "journal.sqlite"), "--as-of", "2026-01-01", *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _workbook_text(path: Path) -> str:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    return "\n".join(str(cell) for sheet in book.worksheets
                     for row in sheet.iter_rows(values_only=True) for cell in row
                     if cell is not None)  # fmt: skip


def _report_data(path: Path) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                      path.read_text("utf-8"), re.S)  # fmt: skip
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_mask_covers_both_rows_and_card_rows_in_every_output(tmp_path: Path) -> None:
    scans, persons = _scans(tmp_path)
    out = tmp_path / "out"
    # One recognition; the later runs only rebuild their output from the journal.
    _run(tmp_path, scans, "-o", str(out / "rows.jsonl"), "--report", str(out / "review.html"))
    _run(tmp_path, scans, "-o", str(out / "rows.csv"))
    _run(tmp_path, scans, "-o", str(out / "rows.xlsx"), "--report", str(out / "book.html"))
    _run(tmp_path, scans, "-o", str(out / "cards.csv"), "--pair")

    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text("utf-8").splitlines()]
    sides = ["front", "back", "front", "back"]
    assert [(r["file"], r["page"], r["card"], r["side"]) for r in rows] == [
        ("day.pdf", 1, None, "both"),
        *[("day.pdf", 2, n, side) for n, side in enumerate(sides, start=1)],
        *[("four.png", None, n, side) for n, side in enumerate(sides, start=1)],
    ]
    both, *cards = rows
    a, b = persons
    assert (both["name"], both["id_number"], both["address"]) == (
        mask_name(a.name), mask_id_number(a.number), mask_address(a.address))
    assert both["authority"] == a.authority  # not personal: kept, as on a front+back pair
    fronts = [r for r in cards if r["side"] == "front"]
    assert {(r["name"], r["id_number"]) for r in fronts} == {
        (mask_name(p.name), mask_id_number(p.number)) for p in persons}

    texts = {name: (out / name).read_text("utf-8-sig") for name in
             ("rows.jsonl", "rows.csv", "cards.csv", "review.html", "book.html")}  # fmt: skip
    texts["rows.xlsx"] = _workbook_text(out / "rows.xlsx")
    for name, text in texts.items():
        for person in persons:
            assert person.name not in text, name
            assert person.number not in text, name
            assert person.address not in text, name
        assert mask_id_number(a.number) in text, name

    # The review pages: every page embedded as flat squares, no portrait, cards outlined.
    for page in ("review.html", "book.html"):
        data = _report_data(out / page)
        assert len(data["views"]) == 3
        assert all(view["masked"] and is_mosaic(view["uri"]) for view in data["views"])
        assert all(entry["portrait"] == "" for entry in data["entries"])
        mine = {(e["files"][0], e["page"], e["card"]): e["thumbs"][0]["mine"]
                for e in data["entries"]}  # fmt: skip
        assert mine[("day.pdf", 1, None)] == [0, 1]
        assert [mine[("day.pdf", 2, n)] for n in range(1, 5)] == [[0], [1], [2], [3]]
        assert [mine[("four.png", None, n)] for n in range(1, 5)] == [[0], [1], [2], [3]]
