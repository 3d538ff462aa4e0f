"""``pipeline.BatchRun`` over documents (docs/documents.md), with a fake engine: one row
per page, resume per page, a budget that stops mid-document, portraits per page."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from batch_ocr.engines.base import EngineResult
from batch_ocr.errors import CallBudgetExhausted
from batch_ocr.run.journal.resume import FileDecision, ResumePolicy, decide_pages
from batch_ocr.run.journal.state import Journal, JournalEntry
from batch_ocr.vision.imaging import PreparedImage
from tests.pdf_support import pillow_pdf, scan
from tests.pictures import marked
from tests.run.test_pipeline import FakeEngine, front, run


def documents(folder: Path, pdf_pages: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "daily.pdf").write_bytes(pillow_pdf(pdf_pages))
    frames = [scan(10 + i, (600, 400), "L") for i in range(2)]
    frames[0].save(folder / "stack.tiff", save_all=True, append_images=frames[1:])
    marked((120, 80), "red").save(folder / "photo.png")
    return folder


async def test_each_page_is_an_image_of_its_own_with_its_number(tmp_path: Path) -> None:
    scans = documents(tmp_path / "scans")
    engine = FakeEngine()
    with Journal(tmp_path / "state.sqlite") as journal:
        rows, batch = await run(engine, scans, journal)
        stored = [(r.file, r.page) for r in journal.rows()]
    assert sorted((r.file, r.page or 0) for r in rows) == [
        ("daily.pdf", 1), ("daily.pdf", 2), ("daily.pdf", 3), ("photo.png", 0),
        ("stack.tiff", 1), ("stack.tiff", 2)]
    assert stored == [("daily.pdf", 1), ("daily.pdf", 2), ("daily.pdf", 3),
                      ("photo.png", None), ("stack.tiff", 1), ("stack.tiff", 2)]
    assert len(engine.seen) == 6 and {r.status for r in rows} == {"ok"}
    assert len({r.sha256 for r in rows}) == 6
    summary = batch.summary()
    assert (summary.images_found, summary.rows_written, summary.calls) == (3, 6, 6)


async def test_a_budget_that_ends_mid_document_leaves_only_its_other_pages(
        tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "daily.pdf").write_bytes(pillow_pdf(4))

    def budget_of_two(image: PreparedImage, index: int) -> EngineResult:
        if index > 2:
            raise CallBudgetExhausted("--max-calls 2 reached")
        return front(image, index)

    with Journal(tmp_path / "state.sqlite") as journal:
        first, batch = await run(FakeEngine(budget_of_two), scans, journal)
        assert [r.page for r in first] == [1, 2]
        assert batch.summary().budget_exhausted
        engine = FakeEngine()
        second, batch = await run(engine, scans, journal)
        assert [r.page for r in second] == [1, 2, 3, 4]  # 1-2 found by content: no call
        assert len(engine.seen) == 2 and batch.summary().reused == 2
        third, batch = await run(engine, scans, journal)
        assert third == [] and batch.summary().already_done == 1
        assert [r.page for r in journal.rows()] == [1, 2, 3, 4]


async def test_a_document_that_shrinks_loses_the_rows_of_its_lost_pages(
        tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    pdf = scans / "daily.pdf"
    pdf.write_bytes(pillow_pdf(3))
    with Journal(tmp_path / "state.sqlite") as journal:
        await run(FakeEngine(), scans, journal)
        pdf.write_bytes(pillow_pdf(2))
        engine = FakeEngine()
        await run(engine, scans, journal)
        assert engine.seen == []
        assert [r.page for r in journal.rows()] == [1, 2]
        pdf.write_bytes(b"%PDF-1.7\ngarbage")
        await run(engine, scans, journal)
        assert [(r.page, r.error_code) for r in journal.rows()] == [(None, "corrupt_pdf")]


async def test_portraits_of_pages_are_named_by_page(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "daily.pdf").write_bytes(pillow_pdf(2))
    buffer = io.BytesIO()
    Image.new("RGB", (30, 40), "white").save(buffer, "JPEG")

    def with_portrait(image: PreparedImage, index: int) -> EngineResult:
        return EngineResult(front(image, index).data, 1, portrait_bytes=buffer.getvalue())

    rows, _ = await run(FakeEngine(with_portrait), scans, portraits_dir=tmp_path / "faces")
    assert sorted(Path(r.portrait_file).name for r in rows) == [
        "daily.pdf-page1.jpg", "daily.pdf-page2.jpg"]


async def test_a_dry_run_counts_the_calls_pages_would_cost(tmp_path: Path) -> None:
    scans = documents(tmp_path / "scans")
    (scans / "copy.pdf").write_bytes((scans / "daily.pdf").read_bytes())  # same pages
    engine = FakeEngine()
    rows, batch = await run(engine, scans, dry_run=True)
    assert engine.seen == [] and rows == []
    assert batch.summary().would_call == 6


def test_a_file_is_skipped_only_when_every_page_may_be() -> None:
    ok = JournalEntry("ok", retryable=False, sha256="a", page=1)
    timed_out = JournalEntry("error", retryable=True, sha256="b", page=2)
    failed = JournalEntry("scan_failed", retryable=False, sha256="c", page=2)
    policy = ResumePolicy()
    assert decide_pages(None, policy) is FileDecision.PROCESS
    assert decide_pages([ok], policy) is FileDecision.SKIP
    assert decide_pages([ok, timed_out], policy) is FileDecision.PROCESS
    assert decide_pages([ok, failed], policy) is FileDecision.SKIP
    assert decide_pages([ok, failed], ResumePolicy(retry_failed=True)) is FileDecision.PROCESS
