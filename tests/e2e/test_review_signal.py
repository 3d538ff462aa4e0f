"""Warnings and the review signal in a real run through the API (emulator on 127.0.0.1)."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest

from batch_ocr.cli import main
from tests.e2e_support import FIXTURES, HOSTILE, SAMPLES, emulator_in_thread

pytest.importorskip("cv2", reason="image warnings need the 'local' extra")

from tests import warning_cases  # noqa: E402

AS_OF = "2026-11-24"
pytestmark = pytest.mark.usefixtures("demo_keys")


@pytest.fixture
def scans_and_fixtures(tmp_path: Path) -> tuple[Path, Path]:
    """The sample cards, plus a grey photocopy of 张三's front the API answers as a card."""
    scans = tmp_path / "scans"
    scans.mkdir()
    entries = [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines()]
    for name in [entry["file"] for entry in entries] + ["not_a_card.jpg"]:
        shutil.copy(SAMPLES / name, scans / name)
    shutil.copy(HOSTILE / "broken.jpg", scans / "broken.jpg")
    front = next(e for e in entries if e["file"] == "zhangsan_front.jpg")
    pixels = warning_cases.decode_file(SAMPLES / "zhangsan_front.jpg")
    photocopy = warning_cases.photocopy(pixels, random.Random(7))
    import cv2

    ok, encoded = cv2.imencode(".jpg", photocopy, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    (scans / "copy_front.jpg").write_bytes(encoded.tobytes())
    answer = copy.deepcopy(front)
    answer["file"] = "copy_front.jpg"
    answer["sha256"] = hashlib.sha256(encoded.tobytes()).hexdigest()
    fixtures = tmp_path / "fixtures.jsonl"
    fixtures.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in [*entries, answer]),
                        encoding="utf-8")
    return scans, fixtures


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.mark.slow  # 1.0 s: the fast suite stays under a minute
def test_rows_carry_warnings_and_the_review_signal(
    tmp_path: Path, scans_and_fixtures: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    scans, fixtures = scans_and_fixtures
    out_csv, out_jsonl, cards = tmp_path / "r.csv", tmp_path / "r.jsonl", tmp_path / "c.csv"
    with emulator_in_thread(fixture_paths=(fixtures,)) as emulator:
        # The office that asks for copies and expired cards to be looked at: by the
        # environment once, by the flag once.
        for out, extra, environ in ((out_csv, [], ""),
                                    (out_jsonl, ["--mask"], "copy,expired"),
                                    (cards, ["--pair", "--review-on", "copy,expired"], "")):
            monkeypatch.setenv("BATCH_OCR_REVIEW_ON", environ)
            code = main([str(scans), "-o", str(out), "--endpoint", emulator.url,
                         "--as-of", AS_OF, "--quiet", *extra])
            assert code == 1  # broken.jpg is rejected

    columns, rows = _csv(out_csv)
    # Appended columns: the review signal, the card's number on a page of cards, then
    # why hybrid escalated a card.
    assert columns[-5:] == ["warnings", "needs_review", "review_reasons", "card",
                            "escalated_for"]
    by_file = {row["file"]: row for row in rows}
    # A copy read whole, whose fields cross-check, needs no one; it says it is a copy.
    photocopy = by_file["copy_front.jpg"]
    assert (photocopy["status"], photocopy["warnings"]) == ("ok", "copy")
    assert (photocopy["needs_review"], photocopy["review_reasons"]) == ("false", "")
    clean = by_file["zhangsan_front.jpg"]
    assert (clean["warnings"], clean["needs_review"], clean["review_reasons"]) == ("", "false", "")
    expired = by_file["lixiaohong_back.gif"]
    assert (expired["checks"], expired["needs_review"]) == ("expired", "false")
    assert by_file["broken.jpg"]["review_reasons"] == "status:rejected"
    assert by_file["not_a_card.jpg"]["review_reasons"] == "status:not_id_card"
    accepted = sorted(f for f, row in by_file.items() if row["needs_review"] == "false")
    assert len(accepted) == 11  # the ten sample sides and the copy

    masked = {
        record["file"]: record
        for record in map(json.loads, out_jsonl.read_text(encoding="utf-8").splitlines())
    }
    assert masked["copy_front.jpg"]["name"] == "张*"
    assert masked["copy_front.jpg"]["warnings"] == ["copy"]
    assert masked["copy_front.jpg"]["review_reasons"] == ["warning:copy"]
    assert masked["lixiaohong_back.gif"]["review_reasons"] == ["check:expired"]
    assert masked["zhangsan_front.jpg"]["review_reasons"] == []

    columns, card_rows = _csv(cards)
    assert columns[-6:] == ["warnings", "needs_review", "review_reasons", "front_engine",
                            "back_engine", "escalated_for"]
    by_front = {row["front_file"]: row for row in card_rows if row["front_file"]}
    assert by_front["zhangsan_front.jpg"]["front_engine"] == "api"
    assert by_front["copy_front.jpg"]["review_reasons"] == "warning:copy;pair:front_only"
    assert by_front["zhangsan_front.jpg"]["needs_review"] == "false"
    assert by_front["lixiaohong_front.bmp"]["review_reasons"] == "check:expired"
    unpaired = {row["other_file"]: row for row in card_rows if row["pair_status"] == "unpaired"}
    assert unpaired["broken.jpg"]["needs_review"] == "true"
