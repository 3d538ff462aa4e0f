"""One file's jobs (``batch_ocr/run/jobs.py``): reading refusals, the hash, the prepared image,
one job per page of a document."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from batch_ocr.errors import ApiError, ImageRejected
from batch_ocr.run import jobs
from batch_ocr.run.discovery import Candidate
from batch_ocr.run.jobs import FileJob, PageReader, read_file
from batch_ocr.run.journal.state import FileStamp
from batch_ocr.run.present.rows import Row
from batch_ocr.vision import imaging
from tests.pdf_support import pillow_pdf
from tests.pictures import marked


def load(candidate: Candidate, stamp: FileStamp,
         limits: imaging.ImageLimits | None) -> FileJob | Row:
    """The one job (or row) of a file that is one image: its only page, then done."""
    reader = PageReader(candidate, stamp, limits)
    loaded = reader.next()
    assert loaded is not None and loaded[1] == 1
    assert reader.done and reader.next() is None
    return loaded[0]


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    marked(size, (200, 190, 170)).save(buffer, "PNG")
    return buffer.getvalue()


def candidate(path: Path, rel: str | None = None) -> Candidate:
    return Candidate(path=path, rel=rel or path.name)


def refusal(path: Path) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        read_file(candidate(path))
    return caught.value


def test_read_file_returns_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG whatever")
    assert read_file(candidate(path)) == b"\x89PNG whatever"


def test_a_missing_file_vanished(tmp_path: Path) -> None:
    error = refusal(tmp_path / "gone.jpg")
    assert (error.error_code, error.message) == ("file_vanished", jobs.VANISHED)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "looks_like.jpg"
    folder.mkdir()
    error = refusal(folder)
    assert (error.error_code, error.message) == ("unreadable", "this is a folder, not a file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs only")
def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "scan.jpg"
    os.mkfifo(fifo)
    outcome: list[BaseException | bytes] = []

    def read() -> None:
        try:
            outcome.append(read_file(candidate(fifo)))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():
        # Free the blocked reader (a writer opening the FIFO unblocks its open) and fail.
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        reader.join(timeout=5)
        pytest.fail("read_file blocked on a FIFO")
    assert len(outcome) == 1
    error = outcome[0]
    assert isinstance(error, ImageRejected)
    assert error.error_code == "unreadable"
    assert "not a regular file" in error.message


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = tmp_path / "locked.jpg"
    path.write_bytes(b"x")
    path.chmod(0)
    error = refusal(path)
    assert error.error_code == "unreadable"
    assert error.message.startswith("cannot read the file: ")


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "MAX_FILE_BYTES", 10)
    exact = tmp_path / "ten.jpg"
    exact.write_bytes(b"0123456789")
    assert read_file(candidate(exact)) == b"0123456789"
    over = tmp_path / "eleven.jpg"
    over.write_bytes(b"0123456789A")
    error = refusal(over)
    assert (error.error_code, error.message) == ("file_too_large", jobs.TOO_LARGE)


def test_load_rejects_a_non_image_with_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    content = b"just some text, not a picture\n"
    path.write_bytes(content)
    row = load(candidate(path, "sub/notes.jpg"), FileStamp.of(path), imaging.API_LIMITS)
    assert isinstance(row, Row)
    assert (row.file, row.status, row.error_code) == ("sub/notes.jpg", "rejected",
                                                      "unsupported_format")
    assert row.sha256 == hashlib.sha256(content).hexdigest()
    assert row.error_message.startswith("not a JPEG/PNG/BMP/GIF/TIFF/WebP/HEIC image")


def test_load_rejects_a_missing_file_without_a_hash(tmp_path: Path) -> None:
    path = tmp_path / "gone.jpg"
    row = load(candidate(path), FileStamp(size=1, mtime_ns=1), None)
    assert isinstance(row, Row)
    assert (row.status, row.error_code, row.sha256) == ("rejected", "file_vanished", "")


def test_load_refuses_a_link_out_of_the_source_folder_unread(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png((40, 30)))
    outside = Candidate(path=path, rel="link.png", outside_link=True)
    row = load(outside, FileStamp.of(path), None)
    assert isinstance(row, Row)
    assert (row.file, row.status, row.error_code, row.sha256) == (
        "link.png", "rejected", "symlink_outside", "")


def test_load_gives_a_job_for_an_image(tmp_path: Path) -> None:
    raw = png((40, 30))
    path = tmp_path / "card.png"
    path.write_bytes(raw)
    stamp = FileStamp.of(path)
    job = load(candidate(path, "in/card.png"), stamp, imaging.API_LIMITS)
    assert isinstance(job, FileJob)
    assert job.file == "in/card.png"
    assert job.stamp == stamp
    assert job.sha256 == hashlib.sha256(raw).hexdigest()
    assert (job.image.mime, job.image.payload, job.image.fitted) == ("image/png", raw, False)
    assert (job.image.width, job.image.height) == (40, 30)


def test_without_limits_the_original_bytes_are_kept(tmp_path: Path) -> None:
    raw = png((imaging.MAX_SIDE_PX + 100, 120))  # past the API's side limit
    path = tmp_path / "wide.png"
    path.write_bytes(raw)
    job = load(candidate(path), FileStamp.of(path), None)
    assert isinstance(job, FileJob)
    assert job.image.payload == raw
    assert job.image.fitted is False
    assert job.image.width == imaging.MAX_SIDE_PX + 100


def test_with_the_api_limits_a_too_big_image_is_fitted(tmp_path: Path) -> None:
    raw = png((imaging.MAX_SIDE_PX + 100, 120))
    path = tmp_path / "wide.png"
    path.write_bytes(raw)
    job = load(candidate(path), FileStamp.of(path), imaging.API_LIMITS)
    assert isinstance(job, FileJob)
    assert job.image.fitted is True
    assert job.image.mime == "image/jpeg"
    assert max(job.image.width, job.image.height) <= imaging.MAX_SIDE_PX
    assert len(job.image.payload) <= imaging.MAX_BYTES
    # The hash is of the file as found, not of what is sent.
    assert job.sha256 == hashlib.sha256(raw).hexdigest()


def test_error_row_carries_the_job_facts(tmp_path: Path) -> None:
    raw = png((40, 30))
    path = tmp_path / "card.png"
    path.write_bytes(raw)
    job = load(candidate(path), FileStamp.of(path), None)
    assert isinstance(job, FileJob)
    error = ApiError("500", "HTTP 500")
    error.attempts = 3
    row = jobs.error_row(job, error, "api")
    assert (row.file, row.status, row.error_code, row.error_message, row.attempts, row.sha256,
            row.engine) == ("card.png", "error", "500", "HTTP 500", 3, job.sha256, "api")


def test_a_document_gives_one_numbered_job_per_page(tmp_path: Path) -> None:
    path = tmp_path / "daily.pdf"
    path.write_bytes(pillow_pdf(3))
    reader = PageReader(candidate(path, "in/daily.pdf"), FileStamp.of(path), None)
    loaded = []
    while not reader.done and (item := reader.next()) is not None:
        loaded.append(item)
    reader.close()
    assert [(job.page, count) for job, count in loaded] == [(1, 3), (2, 3), (3, 3)]
    assert all(isinstance(job, FileJob) and job.file == "in/daily.pdf" for job, _ in loaded)
    assert len({job.sha256 for job, _ in loaded}) == 3


def test_a_damaged_document_is_one_unnumbered_row(tmp_path: Path) -> None:
    path = tmp_path / "daily.pdf"
    path.write_bytes(pillow_pdf(2)[:300])
    row = load(candidate(path), FileStamp.of(path), None)
    assert isinstance(row, Row)
    assert (row.status, row.error_code, row.page) == ("rejected", "corrupt_pdf", None)


def test_a_file_that_grew_after_its_size_was_taken_is_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read is sized from fstat; a file longer by then (a scanner still writing)
    must not be cut at the old size."""
    path = tmp_path / "growing.jpg"
    path.write_bytes(b"x" * 5000)
    real_fstat = os.fstat

    def fstat_before_growth(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, info.st_ino, info.st_dev, info.st_nlink,
                               info.st_uid, info.st_gid, 1000, info.st_atime,
                               info.st_mtime, info.st_ctime))

    monkeypatch.setattr(jobs.os, "fstat", fstat_before_growth)
    assert jobs.read_file(Candidate(path=path, rel="growing.jpg")) == b"x" * 5000
