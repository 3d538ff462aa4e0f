"""``--engine hybrid`` as a user runs it: pays only for doubt, never twice (docs/hybrid.md).

The real CLI as a process against ``batch-ocr-emulator --engine local`` on 127.0.0.1
(real recognition of what is sent), counting the emulator's billable calls. The scans: a
clean card the offline engine vouches for, and a photocopy (as a PDF) of one person's
front and back whose ID number's check character is wrong and whose period of validity
is seven years: each side has a reason about its reading, so both cards are escalated,
a call each.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.card_pages import make_samples, page_bytes, people
from tests.e2e_support import (
    SAMPLES,
    demo_env,
    emulator_process,
    faults_on_second_call,
    kill_9_when_answered,
    stats_of,
)
from tests.pdf_support import pillow_pdf
from tests.skips import needs_local

pytestmark = [needs_local, pytest.mark.slow]

CLEAN = "zhangsan_front.jpg"


def _doubted_person() -> Any:
    samples = make_samples()
    person = people(1, seed=21)[0]
    wrong = "0" if person.number[17] != "0" else "1"
    return dataclasses.replace(person, number=person.number[:17] + wrong,
                               valid_to=samples.add_years(person.valid_from, 7))


def _copy_page() -> Image.Image:
    """A photocopy page of the doubted person's front and back."""
    samples = make_samples()
    person = _doubted_person()
    page = samples.CardPage("copy", (samples.PageCard("front", person),
                                     samples.PageCard("back", person)))  # fmt: skip
    return Image.open(io.BytesIO(page_bytes(page))).convert("RGB")


def _scans(tmp_path: Path) -> Path:
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "copy.pdf").write_bytes(pillow_pdf(images=[_copy_page()]))
    shutil.copy(SAMPLES / CLEAN, scans / CLEAN)
    return scans


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "batch_ocr", *args, "--engine", "hybrid", "--workers", "1",
            "--max-attempts", "1", "--concurrency", "1", "--timeout", "120"]  # fmt: skip


def _run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cli(*args), env=demo_env(BATCH_OCR_ENDPOINT=url),
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _shown(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    return [(r["file"], r["page"], r["side"], r["status"], r["engine"]) for r in rows]


def _assert_rows(out: Path) -> None:
    rows = _rows(out)
    assert _shown(rows) == [("copy.pdf", "1", "both", "ok", "api"),
                            (CLEAN, "", "front", "ok", "local")]
    escalated = rows[0]["escalated_for"].split(";")
    assert "check:id_checksum" in escalated and "check:validity_period_invalid" in escalated
    assert rows[0]["name"] == _doubted_person().name
    assert rows[1]["escalated_for"] == ""


def test_only_doubted_cards_are_paid_for_once(tmp_path: Path, healthy: str) -> None:
    scans = _scans(tmp_path)
    out = tmp_path / "out.csv"
    dry = _run(str(scans), "-o", str(out), "--dry-run", url=healthy)
    assert dry.returncode == 0, dry.stderr
    assert "a real run would make 2 calls (about 2.00 CNY at 1 per call)" in dry.stderr
    assert ("card sides read offline: 1, would be sent to the API: 2 (about 1.00 CNY saved "
            "against sending every card)") in dry.stderr
    assert stats_of(healthy)["calls"] == 0

    report = tmp_path / "review.html"
    first = _run(str(scans), "-o", str(out), "--report", str(report), url=healthy)
    assert first.returncode == 0, first.stderr
    assert stats_of(healthy)["billable"] == 2  # the copy's two cards; the clean card free
    assert "card sides read offline: 1, sent to the API: 2" in first.stderr
    _assert_rows(out)
    assert report.is_file()

    again = _run(str(scans), "-o", str(out), "--pair", url=healthy)
    assert again.returncode == 0, again.stderr
    assert stats_of(healthy)["billable"] == 2  # nothing paid again
    assert "already done in an earlier run: 2" in again.stderr
    cards = {card["front_file"]: card for card in _rows(out)}
    assert cards["copy.pdf"]["front_engine"] == cards["copy.pdf"]["back_engine"] == "api"
    assert "check:id_checksum" in cards["copy.pdf"]["escalated_for"].split(";")
    assert (cards[CLEAN]["front_engine"], cards[CLEAN]["escalated_for"]) == ("local", "")


def test_kill_9_between_two_escalated_cards_then_a_rerun_pays_each_once(
        tmp_path: Path, healthy: str) -> None:
    scans = _scans(tmp_path)
    out = tmp_path / "out.csv"
    with emulator_process("--engine", "local", "--workers", "1",
                          *faults_on_second_call(hang=True)) as hanging:
        kill_9_when_answered(_cli(str(scans), "-o", str(out)), hanging, within_s=300)
        assert stats_of(hanging)["billable"] == 1

    again = _run(str(scans), "-o", str(out), url=healthy)
    assert again.returncode == 0, again.stderr
    assert (stats_of(healthy)["calls"], stats_of(healthy)["billable"]) == (1, 1)
    _assert_rows(out)


def test_max_calls_stops_paying_and_the_next_run_finishes(tmp_path: Path, healthy: str) -> None:
    scans = _scans(tmp_path)
    out = tmp_path / "out.csv"
    first = _run(str(scans), "-o", str(out), "--max-calls", "1", url=healthy)
    assert "stopped at --max-calls" in first.stderr, first.stderr
    assert stats_of(healthy)["billable"] == 1
    again = _run(str(scans), "-o", str(out), url=healthy)
    assert again.returncode == 0, again.stderr
    assert stats_of(healthy)["billable"] == 2  # the one card still due, once
    _assert_rows(out)


def test_verify_pays_for_every_card_and_reads_each_offline_too(tmp_path: Path,
                                                               healthy: str) -> None:
    scans = _scans(tmp_path)
    out = tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "batch_ocr", str(scans), "-o", str(out), "--engine", "api",
            "--verify", "--workers", "1", "--concurrency", "1", "--timeout", "120"]
    run = subprocess.run(argv, env=demo_env(BATCH_OCR_ENDPOINT=healthy), capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "engine: api (each call may be billed; the offline engine checks every answer" \
        in run.stderr
    assert stats_of(healthy)["billable"] == 3  # the copy's two cards and the clean card
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["file"], r["engine"], r["escalated_for"]) for r in rows] == [
        ("copy.pdf", "api", []), (CLEAN, "api", [])]
    # Both read the same pixels with the same recogniser here: they agree.
    assert not any(reason.startswith("disagree:") for r in rows for reason in r["review_reasons"])


def test_bad_credentials_stop_at_the_first_escalation_with_one_call(tmp_path: Path,
                                                                     healthy: str) -> None:
    """The fatal stop (docs/reference.md, "Fatal conditions") holds through hybrid: the
    first card the offline engine doubts is the one call made; the clean card read
    offline keeps its row, and a rerun with the right key pays for the doubted ones."""
    scans = _scans(tmp_path)
    out = tmp_path / "out.csv"
    wrong = subprocess.run(_cli(str(scans), "-o", str(out)), capture_output=True, text=True,
                           env=demo_env(BATCH_OCR_ENDPOINT=healthy,
                                        BATCH_OCR_SECRET_KEY="not-the-key"),
                           timeout=600)  # fmt: skip
    assert wrong.returncode == 3, wrong.stderr
    fatal = [line for line in wrong.stderr.splitlines() if "fatal" in line]
    assert len(fatal) == 1 and "refused the credentials" in fatal[0], wrong.stderr
    assert "Traceback" not in wrong.stderr and "not-the-key" not in wrong.stderr
    assert (stats_of(healthy)["calls"], stats_of(healthy)["billable"]) == (1, 0)
    assert [(r["file"], r["engine"]) for r in _rows(out)] == [(CLEAN, "local")]

    again = _run(str(scans), "-o", str(out), url=healthy)
    assert again.returncode == 0, again.stderr
    assert stats_of(healthy)["billable"] == 2
    _assert_rows(out)


def test_a_multi_page_tiff_through_hybrid_pays_for_its_doubted_page_only(
        tmp_path: Path, healthy: str) -> None:
    """A TIFF whose page 1 is the doubted copy and page 2 the clean card: one row per
    page, each saying which engine read it."""
    scans = tmp_path / "tiff"
    scans.mkdir()
    clean = Image.open(SAMPLES / CLEAN).convert("RGB")
    _copy_page().save(scans / "both.tiff", save_all=True, append_images=[clean],
                      compression="tiff_lzw")
    out = tmp_path / "out.csv"
    run = _run(str(scans), "-o", str(out), url=healthy)
    assert run.returncode == 0, run.stderr
    assert stats_of(healthy)["billable"] == 2  # the copy's two card sides, not the clean card
    rows = _rows(out)
    assert [(r["file"], r["page"], r["side"], r["engine"]) for r in rows] == [
        ("both.tiff", "1", "both", "api"), ("both.tiff", "2", "front", "local")]
    assert rows[0]["name"] == _doubted_person().name
    assert "check:id_checksum" in rows[0]["escalated_for"].split(";")
