"""The review page in a real headless Chromium: counts, filters, search, no network.

Skipped, with the reason, where Playwright or Chromium is missing. Playwright only drives
the Debian ``chromium`` binary (``executable_path``); it never downloads a browser.
Set ``BATCH_OCR_REPORT_SCREENSHOT=/some/path.png`` to keep the sample screenshot.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from report_fakes import (
    HOSTILE_FIELD,
    HOSTILE_FILE,
    HOSTILE_FLAG,
    HOSTILE_SIDE,
    HOSTILE_STATUS,
    Row,
    base_row,
    draw_card,
    draw_sheet,
    hostile_rows,
    is_mosaic,
)

from batch_ocr.report import image_finder, write_report
from batch_ocr.report import page as page_module
from batch_ocr.report import page_views as page_view_module
from batch_ocr.report.mask import mask_row_dict
from batch_ocr.report.thumbs import DATA_URI_PREFIX as JPEG_DATA
from batch_ocr.vision import crops
from tests.pdf_support import pillow_pdf

SUMMARY = {
    "calls": 11,
    "cost_estimate": 0.11,
    "currency": "CNY",
    "elapsed_s": 83.4,
    "engine": "api",
}


def open_report(page: Any, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_selector("html[data-ready='1']", timeout=20_000)


def matching(page: Any) -> int:
    return int(page.get_attribute("#shown", "data-matching"))


def listed(page: Any) -> list[tuple[str, str]]:
    """(status, file text) of the entries on screen, in order."""
    pairs: list[tuple[str, str]] = page.eval_on_selector_all(
        "#entries li.entry",
        "els => els.map(e => [e.dataset.status, e.querySelector('.file').textContent])",
    )
    return [tuple(p) for p in pairs]  # type: ignore[misc]


def wait_matching(page: Any, count: int) -> None:
    # A selector wait, not wait_for_function: the page's CSP (rightly) forbids the eval
    # that wait_for_function's string predicates need.
    page.wait_for_selector(f"#shown[data-matching='{count}']", state="attached")


def assert_offline(page: Any, path: Path) -> None:
    """Only the page itself was requested, and nothing on it complained."""
    assert page.requests == [path.as_uri()]
    assert page.problems == []


@pytest.mark.slow  # a browser session of 1.5 s
def test_sample_report_counts_filter_search(
    tmp_path: Path, sample: tuple[list[Row], Path], make_page: Any
) -> None:
    rows, images = sample
    out = tmp_path / "out" / "report.html"
    write_report(rows, out, image_for=image_finder([images]), summary=SUMMARY)
    page = make_page(1280, 1000)
    open_report(page, out)

    # Counts in the header, as a person sees them.
    chips = page.eval_on_selector_all(
        "#counts button.count", "els => els.map(e => e.textContent.trim())"
    )
    assert chips == ["1 error", "1 rejected", "1 scan_failed", "1 not_id_card", "5 ok", "3 flagged",
                     "7 need review"]
    assert "Calls made11" in page.inner_text("dl.run").replace("\n", "").replace("\t", "")
    assert page.inner_text("#shown") == "Showing 1–9 of 9 matching (9 in total)"
    # Errors and flagged cards first by default.
    order = listed(page)
    assert [s for s, _ in order[:3]] == ["error", "rejected", "scan_failed"]
    assert {f for _, f in order[3:6]} == {
        "scans/li_xiaohong.jpg",
        "scans/li_xiaohong_back.jpg",
        "scans/wang_wu.jpg",
    }
    # Thumbnails and the portrait really decoded.
    assert page.eval_on_selector_all("img.thumb", "els => els.length") == 8
    assert page.eval_on_selector_all("img.portrait", "els => els.length") == 1
    decoded = "els => els.filter(i => i.complete && i.naturalWidth > 0).length"
    deadline = time.monotonic() + 10
    while page.eval_on_selector_all("img", decoded) < 9 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert page.eval_on_selector_all("img", decoded) == 9
    page.screenshot(path=str(tmp_path / "sample_report.png"), full_page=True)
    keep = os.environ.get("BATCH_OCR_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(tmp_path / "sample_report.png", keep)

    # Errors only: one click.
    page.click("#errors-only")
    assert matching(page) == 2
    assert {s for s, _ in listed(page)} == {"error", "rejected"}
    assert "501" in page.inner_text("#entries") and "服务器繁忙" in page.inner_text("#entries")
    page.click("#errors-only")
    assert matching(page) == 9

    # A status count is a filter too.
    page.click("#counts button[data-status='scan_failed']")
    assert listed(page) == [("scan_failed", "scans/blurry.jpg")]
    page.select_option("#f-status", "")

    # Flag filter.
    page.select_option("#f-flag", "expired")
    assert listed(page) == [("ok", "scans/li_xiaohong_back.jpg")]
    page.select_option("#f-flag", "")

    # Review filter: rows that need review, and those a back office can accept as they are.
    page.select_option("#f-review", "no")
    assert {f for _, f in listed(page)} == {"scans/zhang_san.jpg", "scans/missing_on_disk.jpg"}
    page.select_option("#f-review", "yes")
    assert matching(page) == 7
    entries_text = page.inner_text("#entries")
    assert "Glare over the text" in entries_text and "warning:glare" in entries_text
    page.select_option("#f-review", "")
    page.click("#counts button[data-review='yes']")
    assert matching(page) == 7
    page.select_option("#f-review", "")

    # Search on file name (debounced), case-insensitive.
    page.fill("#f-search", "LI_XIAO")
    wait_matching(page, 2)
    assert {f for _, f in listed(page)} == {"scans/li_xiaohong.jpg", "scans/li_xiaohong_back.jpg"}
    page.fill("#f-search", "no such file")
    wait_matching(page, 0)
    assert page.inner_text("#entries") == "No entry matches these filters."
    page.fill("#f-search", "")

    # Sorting by name.
    page.select_option("#f-sort", "name")
    wait_matching(page, 9)
    names = page.eval_on_selector_all(
        "#entries li.entry", "els => els.slice(0, 3).map(e => e.querySelector('dd').textContent)"
    )
    assert set(names) == {"张三", "李小红", "王五"}

    assert_offline(page, out)


def test_request_recorder_sees_requests(tmp_path: Path, make_page: Any) -> None:
    """Control for the offline checks: a page that does fetch gets caught."""
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<img src="http://127.0.0.1:9/x.png">', "utf-8")
    page = make_page()
    page.goto(leaky.as_uri())
    page.wait_for_load_state("load")
    assert "http://127.0.0.1:9/x.png" in page.requests


def test_hostile_text_stays_text_and_fetches_nothing(tmp_path: Path, make_page: Any) -> None:
    hostile = '<img src="http://127.0.0.1:9/n.png" onerror="alert(1)"></script><script>alert(2)'
    rows = [
        base_row(
            "</script><script>alert(3)</script>.jpg",
            "error",
            name=hostile,
            address='<link rel="stylesheet" href="http://127.0.0.1:9/a.css">',
            error_code="<b>500</b>",
            error_message="<iframe src=//127.0.0.1:9/>",
            portrait_url="http://127.0.0.1:9/face.png",
            checks=["<svg onload=alert(4)>"],
            portrait_file="/nonexistent/face.jpg",
        ),
        base_row("b.jpg", "constructor", name="__proto__", checks=["__proto__", "constructor"]),
    ]
    out = tmp_path / "hostile.html"
    write_report(rows, out)
    page = make_page()
    open_report(page, out)
    text = page.inner_text("#entries")
    assert hostile in text
    assert '<link rel="stylesheet" href="http://127.0.0.1:9/a.css">' in text
    assert "<iframe src=//127.0.0.1:9/>" in text and "<b>500</b>" in text
    assert "<svg onload=alert(4)>" in text
    assert "</script><script>alert(3)</script>.jpg" in text
    assert "__proto__" in text and "[object Object]" not in text
    # Only the images we made exist (none here), and nothing ran or was fetched.
    assert (
        page.eval_on_selector_all(
            "#entries img, #entries iframe, #entries link", "els => els.length"
        )
        == 0
    )
    assert_offline(page, out)


def test_hostile_names_show_as_text_in_header_selects_and_entries(
        tmp_path: Path, make_page: Any) -> None:
    out = tmp_path / "hostile.html"
    write_report(hostile_rows(), out, summary={"engine": HOSTILE_FIELD})
    page = make_page()
    open_report(page, out)
    header = page.inner_text("header")
    assert HOSTILE_FIELD in header and HOSTILE_STATUS in header
    options = page.eval_on_selector_all("select option", "els => els.map(e => e.textContent)")
    for shown in (f"{HOSTILE_STATUS} (1)", f"{HOSTILE_FLAG} (1)", f"{HOSTILE_SIDE} (1)"):
        assert shown in options
    entries = page.inner_text("#entries")
    assert HOSTILE_FILE in entries and HOSTILE_FIELD in entries
    # The hostile side is an option like any other: choosing it lists its entry.
    page.select_option("#f-side", HOSTILE_SIDE)
    wait_matching(page, 1)
    assert listed(page) == [(HOSTILE_STATUS, "b.jpg")]
    assert page.eval_on_selector_all("img, b, i, u", "els => els.length") == 0
    assert_offline(page, out)


def test_pair_report(tmp_path: Path, make_page: Any) -> None:
    draw_card(tmp_path / "in" / "a.jpg", hue=1)
    draw_card(tmp_path / "in" / "b.jpg", hue=2)
    rows: list[Row] = [
        {
            "front_file": "a.jpg",
            "back_file": "b.jpg",
            "pair_status": "complete",
            "name": "张三",
            "front_status": "ok",
            "back_status": "ok",
            "checks": ["expired"],
        },
        {
            "front_file": "c.jpg",
            "back_file": "",
            "pair_status": "front_only",
            "name": "李小红",
            "front_status": "error",
            "back_status": "",
            "front_error_code": "501",
            "front_error_message": "busy",
        },
    ]
    out = tmp_path / "cards.html"
    write_report(rows, out, image_for=image_finder([tmp_path / "in"]))
    page = make_page()
    open_report(page, out)
    assert page.inner_text("#shown") == "Showing 1–2 of 2 matching (2 in total)"
    first = page.inner_text("#entries li.entry >> nth=0")
    assert "front_only" in first and "front error" in first and "501" in first
    page.click("#errors-only")
    assert matching(page) == 1
    assert_offline(page, out)


@pytest.mark.serial  # times the page
@pytest.mark.slow
def test_ten_thousand_rows_open_and_filter_quickly(
    tmp_path: Path, make_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = draw_card(tmp_path / "in" / "card.jpg")
    # A real run's rows each have a page of their own, embedded once per page: give each
    # row its own view as heavy as a photo's (the real thumbnail, then bytes a JPEG
    # decoder ignores after its end, up to the 4.3 KB per row of
    # tests/benchmarks/review_page.py), without drawing and searching 10,000 files.
    view = page_view_module.view_of_image(scan.read_bytes(), masked=False)
    jpeg = base64.b64decode(view.data_uri.split(",", 1)[1])

    def distinct_views(keys: Any, *, masked: bool) -> dict[Any, Any]:
        return {key: dataclasses.replace(view, data_uri=JPEG_DATA + base64.b64encode(
            jpeg + str(key[0]).encode().ljust(max(0, 3_200 - len(jpeg)), b"\0")).decode())
            for key in keys}  # fmt: skip

    monkeypatch.setattr(page_module, "page_views", distinct_views)
    statuses = ["ok"] * 7 + ["error", "scan_failed", "not_id_card"]
    rows = [
        base_row(
            f"batch/{i:05d}.jpg",
            statuses[i % 10],
            name="张三" if i % 2 else "李小红",
            id_number=f"1101011990{i:08d}",
            checks=["expired"] if i % 13 == 0 else [],
            error_code="501" if statuses[i % 10] == "error" else "",
        )
        for i in range(10_000)
    ]
    out = tmp_path / "big.html"
    write_report(rows, out, image_for=lambda row: tmp_path / "in" / row["file"])
    assert 40_000_000 < out.stat().st_size < 60_000_000

    page = make_page()
    started = time.monotonic()
    open_report(page, out)
    opened_s = time.monotonic() - started
    assert matching(page) == 10_000
    assert page.eval_on_selector_all("#entries li.entry", "els => els.length") == 100
    assert opened_s < 15, f"opening took {opened_s:.1f} s"

    # Filtering is synchronous: time one click inside the page.
    click_ms = page.evaluate(
        "() => { const t = performance.now(); document.getElementById('errors-only').click();"
        " return performance.now() - t; }"
    )
    assert matching(page) == 1_000
    assert click_ms < 1_000, f"errors-only took {click_ms:.0f} ms"
    page.click("#errors-only")
    page.fill("#f-search", "09999")
    wait_matching(page, 1)
    page.fill("#f-search", "")
    page.click(".pager .next >> nth=0")
    assert page.inner_text("#shown").startswith("Showing 101–200 of 10000")
    assert_offline(page, out)


def _document_rows() -> list[Row]:
    """A scanned day: page 1 holds two people's cards (four numbered sides), page 2 one
    person's front and back (one ``both`` row); a page 3 the file no longer has."""
    people = [("张三", "110101199003071234"), ("李小红", "310101198511204321")]
    rows = [
        base_row("day.pdf", side="front" if n % 2 else "back", page=1, card=n,
                 name=people[(n - 1) // 2][0] if n % 2 else "",
                 id_number=people[(n - 1) // 2][1] if n % 2 else "")
        for n in range(1, 5)
    ]  # fmt: skip
    rows.append(base_row("day.pdf", side="both", page=2, name="王五",
                         id_number="440304197906015678", address="广东省深圳市福田区演示大道3号",
                         authority="深圳市公安局福田分局", valid_from="2015-01-01",
                         valid_to="2035-01-01"))  # fmt: skip
    rows.append(base_row("day.pdf", "rejected", page=3, error_code="corrupt_pdf",
                         error_message="page 3 of the PDF is damaged"))  # fmt: skip
    return rows


def _figures(page: Any) -> dict[str, dict[str, Any]]:
    """What each entry's page thumbnail shows, by the entry's "page N card N" text."""
    found = page.eval_on_selector_all(
        "#entries li.entry",
        """els => els.map(e => {
             const fig = e.querySelector('figure.pageview');
             const img = fig && fig.querySelector('img.thumb');
             return [Array.from(e.querySelectorAll('.where')).map(w => w.textContent).join(' '),
                     {outlines: fig ? Number(fig.dataset.outlines) : -1,
                      mine: fig ? fig.dataset.mine : '',
                      polygons: fig ? fig.querySelectorAll('polygon.outline').length : 0,
                      thick: fig ? fig.querySelectorAll('polygon.outline.mine').length : 0,
                      src: img ? img.src : '',
                      decoded: !!img && img.complete && img.naturalWidth > 0,
                      caption: fig && fig.querySelector('figcaption') ?
                        fig.querySelector('figcaption').textContent : '',
                      placeholder: fig && fig.querySelector('.noimg') ?
                        fig.querySelector('.noimg').textContent : ''}];
           })""",
    )
    return dict(found)


def _wait_decoded(page: Any) -> None:
    decoded = "els => els.every(i => i.complete && i.naturalWidth > 0)"
    deadline = time.monotonic() + 10
    while not page.eval_on_selector_all("img.thumb", decoded) and time.monotonic() < deadline:
        page.wait_for_timeout(50)


def _write_day_pdf(folder: Path) -> None:
    pdf = pillow_pdf(images=[draw_sheet(4, columns=2), draw_sheet(2, seed=4)])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "day.pdf").write_bytes(pdf)


@pytest.mark.skipif(not crops.available(), reason="needs the 'local' extra (the card finder)")
def test_pdf_pages_show_their_cards_outlined(tmp_path: Path, make_page: Any) -> None:
    _write_day_pdf(tmp_path / "in")
    out = tmp_path / "day.html"
    write_report(_document_rows(), out, image_for=image_finder([tmp_path / "in"]))
    page = make_page(1280, 1400)
    open_report(page, out)
    page.select_option("#f-sort", "page")
    _wait_decoded(page)
    shown = _figures(page)
    assert list(shown) == ["page 1 card 1", "page 1 card 2", "page 1 card 3", "page 1 card 4",
                           "page 2", "page 3"]  # fmt: skip
    # Every page row shows its page, decoded, with as many outlines as the page has cards.
    for where, figure in shown.items():
        if where != "page 3":
            assert figure["decoded"] and figure["src"].startswith(JPEG_DATA), where
    assert [shown[f"page 1 card {n}"]["polygons"] for n in range(1, 5)] == [4, 4, 4, 4]
    # The row's own card is the one drawn thick, with its number.
    assert [shown[f"page 1 card {n}"]["mine"] for n in range(1, 5)] == ["1", "2", "3", "4"]
    assert all(shown[f"page 1 card {n}"]["thick"] == 1 for n in range(1, 5))
    assert shown["page 1 card 3"]["caption"] == "4 cards found · this row: 3"
    # A front and a back on one page: one row, both cards its own.
    assert (shown["page 2"]["outlines"], shown["page 2"]["mine"]) == (2, "1 2")
    # Rows of one page share one embedded image.
    assert len({shown[f"page 1 card {n}"]["src"] for n in range(1, 5)}) == 1
    # The page 3 of the rows is not in the file any more: a placeholder says so.
    assert shown["page 3"]["placeholder"] == "the file has no page 3 now"
    assert page.eval_on_selector_all("li.entry:not(:has(img.thumb))", "els => els.length") == 1

    # Page and card filter like the other columns.
    page.select_option("#f-page", "1")
    assert matching(page) == 4
    page.select_option("#f-card", "3")
    assert list(_figures(page)) == ["page 1 card 3"]
    page.select_option("#f-page", "*all*")
    page.select_option("#f-card", "")
    assert list(_figures(page)) == ["page 2", "page 3"]
    page.select_option("#f-card", "*all*")
    page.select_option("#f-side", "both")
    assert list(_figures(page)) == ["page 2"]
    assert_offline(page, out)


@pytest.mark.skipif(not crops.available(), reason="needs the 'local' extra (the card finder)")
def test_masked_pages_are_blurred_and_still_outlined(tmp_path: Path, make_page: Any) -> None:
    _write_day_pdf(tmp_path / "in")
    rows = [mask_row_dict(row) for row in _document_rows()]
    out = tmp_path / "masked.html"
    write_report(rows, out, image_for=image_finder([tmp_path / "in"]), masked=True)
    page = make_page(1280, 1400)
    open_report(page, out)
    _wait_decoded(page)
    shown = _figures(page)
    thumbs = [f for f in shown.values() if f["src"]]
    assert len(thumbs) == 5
    # No clear picture of a card: every thumbnail is flat squares, said so under it.
    assert all(is_mosaic(f["src"]) for f in thumbs)
    assert all(f["caption"].endswith("blurred (masked)") for f in thumbs)
    assert page.eval_on_selector_all("img.portrait", "els => els.length") == 0
    # Where the cards are still shows, and which one is the row's.
    assert shown["page 1 card 2"]["mine"] == "2" and shown["page 2"]["outlines"] == 2
    entries_text = page.inner_text("#entries")
    assert "张三" not in entries_text and "110101199003071234" not in entries_text
    assert "张*" in entries_text and "110101********1234" in entries_text
    assert "广东省深圳市福田区****" in entries_text
    assert_offline(page, out)
