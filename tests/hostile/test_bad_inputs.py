"""A folder batch-ocr did not create: every hostile kind ends as exactly one row (per page).

The corpus is generated (``corpus.py``), the file-system cases are built here: links
out of the folder and in circles, a FIFO, a file that vanishes between the walk and the
read, one that cannot be read, names no table expects. One in-process run over all of
them must finish, give each exactly one row with a specific code and message, and pay
for nothing that could have been refused locally.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batch_ocr.cli import main
from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from batch_ocr.run import discovery, jobs
from tests.e2e_support import emulator_in_thread, read_rows
from tests.hostile import corpus

#: A run over the corpus takes ~2 s; past this it is hanging.
RUN_DEADLINE_S = 90.0

#: File-system cases built by ``_build_fs_cases``: name -> (status, code, message fragment).
FS_CASES: dict[str, tuple[str, str, str]] = {
    "link_outside.jpg": ("rejected", "symlink_outside",
                         "a symbolic link that does not resolve to a file inside the source folder"),
    "link_inside.jpg": ("not_id_card", "", ""),
    "inside_target.jpg": ("not_id_card", "", ""),
    "loop_a.jpg": ("rejected", "symlink_outside", "a symbolic link"),
    "loop_b.jpg": ("rejected", "symlink_outside", "a symbolic link"),
    "dangling.jpg": ("rejected", "file_vanished", "the file disappeared"),
    "vanishes.jpg": ("rejected", "file_vanished", "the file disappeared before it could be read"),
    "no_permission.jpg": ("rejected", "unreadable", "cannot read the file: Permission denied"),
    "sub/dir/deep.jpg": ("not_id_card", "", ""),
}
NON_UTF8_SHOWN = "caf\\xe9_\\xff.jpg"


@dataclass
class CorpusRun:
    """One run over the whole corpus, and what it left behind."""

    folder: Path
    code: int
    elapsed_s: float
    rows: list[dict[str, Any]]
    stats: dict[str, Any]
    stderr: str
    rerun_code: int
    rerun_calls: int
    rerun_rows: list[dict[str, Any]]
    csv_text: str
    outside_sha256: str


def _build_fs_cases(root: Path, scans: Path) -> str:
    """Links, a FIFO, a hidden file, a nested folder; returns the outside file's sha256."""
    outside = root / "outside.jpg"
    outside.write_bytes(corpus.jpeg_bytes("outside"))
    os.symlink(outside, scans / "link_outside.jpg")
    (scans / "inside_target.jpg").write_bytes(corpus.jpeg_bytes("inside"))
    os.symlink("inside_target.jpg", scans / "link_inside.jpg")
    os.symlink("loop_b.jpg", scans / "loop_a.jpg")
    os.symlink("loop_a.jpg", scans / "loop_b.jpg")
    os.symlink("nowhere.jpg", scans / "dangling.jpg")
    os.symlink(root, scans / "linked_folder")  # would loop back into scans, and escape it
    os.mkfifo(scans / "fifo.jpg")  # opening it would block until someone writes
    (scans / ".hidden.jpg").write_bytes(b"")
    (scans / "vanishes.jpg").write_bytes(corpus.jpeg_bytes("vanishes"))
    (scans / "no_permission.jpg").write_bytes(corpus.jpeg_bytes("no_permission"))
    (scans / "sub" / "dir").mkdir(parents=True)
    (scans / "sub" / "dir" / "deep.jpg").write_bytes(corpus.jpeg_bytes("deep"))
    (scans / "notes.txt").write_text("not an image name: ignored")
    return hashlib.sha256(outside.read_bytes()).hexdigest()


def _hostile_file_system(monkeypatch: pytest.MonkeyPatch, scans: Path) -> None:
    """Make ``vanishes.jpg`` disappear after the walk and ``no_permission.jpg`` unreadable."""
    walk = discovery.walk_sources

    def walk_then_delete(sources: list[Path], stats: discovery.WalkStats, **options: Any
                         ) -> Iterator[discovery.Candidate]:
        for candidate in walk(sources, stats, **options):
            if candidate.rel == "vanishes.jpg" and candidate.path.exists():
                candidate.path.unlink()  # deleted between the walk and the read
            yield candidate

    monkeypatch.setattr("batch_ocr.run.pipeline.walk_sources", walk_then_delete)
    no_permission = scans / "no_permission.jpg"
    if os.geteuid() != 0:
        no_permission.chmod(0)
        return
    # As root, chmod 000 does not stop a read: simulate the EACCES a normal user gets.
    real_open = jobs._open_for_reading

    def guarded_open(path: Path) -> int:
        if Path(path) == no_permission:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path)

    monkeypatch.setattr(jobs, "_open_for_reading", guarded_open)


def _run_bounded(argv: list[str], fifo: Path) -> tuple[int, float]:
    """``main(argv)`` in a thread; a hang fails the test instead of freezing the suite."""
    result: list[int] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    thread.start()
    thread.join(RUN_DEADLINE_S)
    if thread.is_alive():
        with open(fifo, "wb"):  # release a reader blocked on the FIFO, then fail
            pass
        thread.join(10)
        pytest.fail(f"the run hung for more than {RUN_DEADLINE_S:g} s")
    return result[0], time.monotonic() - started


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    root = tmp_path_factory.mktemp("hostile")
    scans = root / "scans"
    corpus.build_all(scans)
    corpus.non_utf8_name(scans)
    outside_sha256 = _build_fs_cases(root, scans)
    out = root / "out.jsonl"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("BATCH_OCR_SECRET_ID", DEMO_SECRET_ID)
        monkeypatch.setenv("BATCH_OCR_SECRET_KEY", DEMO_SECRET_KEY)
        _hostile_file_system(monkeypatch, scans)
        stderr = io.StringIO()
        monkeypatch.setattr("sys.stderr", stderr)
        with emulator_in_thread() as emulator:
            argv = [str(scans), "-o", str(out), "--endpoint", emulator.url, "--timeout", "10",
                    "--verbose"]
            code, elapsed_s = _run_bounded(argv, scans / "fifo.jpg")
            stats = emulator.stats()
            rows = read_rows(out)
            rerun_code, _ = _run_bounded(argv, scans / "fifo.jpg")
            rerun_calls = emulator.stats()["calls"] - stats["calls"]
            rerun_rows = read_rows(out)
            out_csv = root / "out.csv"
            _run_bounded([str(scans), "-o", str(out_csv), "--endpoint", emulator.url, "-q"],
                         scans / "fifo.jpg")
    return CorpusRun(scans, code, elapsed_s, rows, stats, stderr.getvalue(), rerun_code,
                     rerun_calls, rerun_rows,
                     out_csv.read_bytes().decode("utf-8-sig"),  # no newline translation
                     outside_sha256)


def _expected() -> dict[str, tuple[str, str, str]]:
    table = {kind.name: (kind.status, kind.error_code, kind.message) for kind in corpus.KINDS}
    table.update(FS_CASES)
    table[NON_UTF8_SHOWN] = ("not_id_card", "", "")
    return table


EXPECTED = _expected()


def test_the_corpus_has_every_kind_the_issue_lists() -> None:
    assert len(EXPECTED) >= 40
    assert len({kind.build for kind in corpus.KINDS}) >= 26


@pytest.mark.serial  # times the corpus run (its fixture)
def test_the_run_finishes_promptly_and_exits_1(corpus_run: CorpusRun) -> None:
    assert corpus_run.code == 1, corpus_run.stderr[-2000:]
    assert corpus_run.elapsed_s < 30
    assert "Traceback" not in corpus_run.stderr
    assert "internal_error" not in corpus_run.stderr


PAGES = {kind.name: kind.pages for kind in corpus.KINDS}


def test_every_file_has_exactly_one_row_per_page_and_nothing_else_does(
    corpus_run: CorpusRun,
) -> None:
    found = Counter((row["file"], row["page"]) for row in corpus_run.rows)
    expected = Counter((name, page) for name in EXPECTED
                       for page in _page_numbers(PAGES.get(name)))
    assert found == expected, set(found) ^ set(expected)


def _page_numbers(pages: int | None) -> list[int | None]:
    return [None] if pages is None else list(range(1, pages + 1))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_kind_ends_with_its_own_status_code_and_message(corpus_run: CorpusRun,
                                                              name: str) -> None:
    status, code, message = EXPECTED[name]
    rows = [row for row in corpus_run.rows if row["file"] == name]
    assert [row["page"] for row in rows] == _page_numbers(PAGES.get(name))
    for row in rows:
        assert (row["status"], row["error_code"]) == (status, code), row
        assert message in row["error_message"], row["error_message"]
        if status == "rejected":
            assert row["attempts"] == 0  # refused before any call


def test_nothing_refusable_locally_reached_the_api(corpus_run: CorpusRun) -> None:
    stats = corpus_run.stats
    rejected = {row["sha256"] for row in corpus_run.rows if row["status"] == "rejected"}
    assert not rejected & set(stats["per_sha256"])
    assert corpus_run.outside_sha256 not in stats["per_sha256"]
    # One call per distinct content sent (the link and its target share one).
    sent = [row for row in corpus_run.rows if row["status"] != "rejected"]
    assert stats["calls"] == len({row["sha256"] for row in sent}) == stats["billable"]
    assert set(stats["by_status"]) == {"200"}  # the API refused nothing we sent
    assert all(count == 1 for count in stats["per_sha256"].values())


def test_big_pictures_are_fitted_and_sent(corpus_run: CorpusRun) -> None:
    fitted = {row["file"] for row in corpus_run.rows if row["fitted"]}
    # WebP and HEIC are not the API's formats: always re-encoded as a JPEG.
    assert fitted == {"huge_5000px.jpg", "raw_30mb.bmp", "phone.webp", "phone.heic"}


def test_a_rerun_pays_nothing_and_changes_no_row(corpus_run: CorpusRun) -> None:
    assert corpus_run.rerun_code == 1
    assert corpus_run.rerun_calls == 0
    strip = ("attempts",)
    assert [{k: v for k, v in r.items() if k not in strip} for r in corpus_run.rerun_rows] == [
        {k: v for k, v in r.items() if k not in strip} for r in corpus_run.rows]


def test_linked_folders_fifos_and_hidden_files_are_not_walked(corpus_run: CorpusRun) -> None:
    files = {row["file"] for row in corpus_run.rows}
    assert not any(name.startswith("linked_folder") for name in files)
    assert "fifo.jpg" not in files and ".hidden.jpg" not in files
    # notes.txt, the FIFO and the linked folder, each named (docs/reference.md, "Options")
    assert "other files ignored: 3" in corpus_run.stderr
    assert "batch-ocr: ignored: linked_folder/\n" in corpus_run.stderr


def test_odd_names_survive_csv_quoting_and_formula_neutralising(corpus_run: CorpusRun) -> None:
    rows = list(csv.DictReader(io.StringIO(corpus_run.csv_text, newline="")))
    files = Counter(row["file"] for row in rows)
    # vanishes.jpg is gone since the first run: this fresh output never saw it.
    shown = Counter("'" + name if name.startswith("=") else name for name in EXPECTED
                    for _ in _page_numbers(PAGES.get(name)) if name != "vanishes.jpg")
    assert files == shown
    assert files["'=HYPERLINK(1).jpg"] == 1
    assert files["new\nline.jpg"] == 1 and files['quote"and\'apostrophe.jpg'] == 1


def test_the_symlink_policy_is_the_documented_one() -> None:
    doc = discovery.__doc__ or ""
    assert "a symlinked folder is not entered" in doc and "--follow-links" in doc
    assert "symlink_outside" in doc and "FIFOs" in doc


@pytest.mark.slow
@pytest.mark.serial  # times the runs
def test_a_folder_of_10000_entries_runs_in_bounded_time(tmp_path: Path) -> None:
    """2,500 images (hard links of 4 contents) among 7,500 other files."""
    scans = tmp_path / "big"
    scans.mkdir()
    sources = []
    for index in range(4):
        source = scans / f"img_{index:05d}.jpg"
        source.write_bytes(corpus.jpeg_bytes(f"big{index}"))
        sources.append(source)
    for index in range(4, 2500):
        os.link(sources[index % 4], scans / f"img_{index:05d}.jpg")
    for index in range(2500, 10000):
        (scans / f"note_{index:05d}.txt").touch()
    assert len(os.listdir(scans)) == 10000
    out = tmp_path / "out.csv"
    with emulator_in_thread() as emulator:
        started = time.monotonic()
        assert main([str(scans), "-o", str(out), "--endpoint", emulator.url, "-q"]) == 0
        first_s = time.monotonic() - started
        assert emulator.stats()["calls"] == 4
        started = time.monotonic()
        assert main([str(scans), "-o", str(out), "--endpoint", emulator.url, "-q"]) == 0
        rerun_s = time.monotonic() - started
        assert emulator.stats()["calls"] == 4
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + 2500 and len(set(lines)) == 1 + 2500
    assert first_s < 30 and rerun_s < 10
