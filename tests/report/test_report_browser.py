"""The review page in a real headless Chromium: counts, filters, search, no network.

Skipped, with the reason, where Playwright or Chromium is missing. Playwright only drives
the Debian ``chromium`` binary (``executable_path``); it never downloads a browser.
Set ``BATCH_OCR_REPORT_SCREENSHOT=/some/path.png`` to keep the sample screenshot.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from report_fakes import Row, base_row, draw_card

from batch_ocr.report import image_finder, write_report

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


@pytest.mark.slow
def test_ten_thousand_rows_open_and_filter_quickly(tmp_path: Path, make_page: Any) -> None:
    scan = draw_card(tmp_path / "in" / "card.jpg")
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
    # Every row gets a real (shared) thumbnail, so the page is as heavy as a real run's.
    write_report(rows, out, image_for=lambda row: scan)
    assert out.stat().st_size < 60_000_000

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
