"""Issue 9's acceptance run: ``batch-ocr samples --report`` through the emulator, in Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batch_ocr.cli import main
from tests.e2e_support import FIXTURES, HOSTILE, SAMPLES, emulator_in_thread

pytestmark = pytest.mark.usefixtures("demo_keys")


@pytest.mark.slow  # a whole run over the samples, 1.4 s
def test_run_over_samples_writes_a_review_page(tmp_path: Path, request: pytest.FixtureRequest,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.jsonl"
    report = tmp_path / "review.html"
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        code = main([str(SAMPLES), str(HOSTILE), "-o", str(out), "--endpoint", emulator.url,
                     "--report", str(report), "--as-of", "2026-11-24"])
    assert code == 1  # broken.jpg
    # The page is announced before it is written (minutes for 10,000 photos), then done.
    err = capsys.readouterr().err
    assert f"batch-ocr: writing the review page {report}\n" in err
    assert err.index("writing the review page") > err.index("rows written")
    assert "batch-ocr: review page written in " in err
    assert oct(report.stat().st_mode & 0o777) == "0o600"
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # The browser only now: Playwright's sync API holds an event loop while it runs.
    page = request.getfixturevalue("make_page")(1280, 1000)
    page.goto(report.as_uri())
    page.wait_for_selector("html[data-ready='1']", timeout=20_000)
    text = page.inner_text("body")
    for row in rows:
        assert row["file"] in text
        for field in ("name", "id_number", "authority"):
            if row[field]:
                assert row[field] in text, (row["file"], field)
    assert "expired" in text  # 李小红's card ran out in 2025
    page.click("#errors-only")
    page.wait_for_selector("#shown[data-matching='1']", state="attached")
    shown = page.eval_on_selector_all("#entries li.entry", "els => els.map(e => e.dataset.status)")
    assert shown == ["rejected"]
    assert page.requests == [report.as_uri()]
    assert page.problems == []
