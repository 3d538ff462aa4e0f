"""The offline engine inside a run: selection rule, sample rows offline, worker crashes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL.PngImagePlugin import PngInfo

from batch_ocr.engines.registry import resolve_engine_name
from batch_ocr.run.pipeline import BatchRun
from batch_ocr.run.present.rows import Row
from batch_ocr.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "cards"


def local_engine_available() -> bool:
    from batch_ocr.engines.local import available

    return available()


needs_local = pytest.mark.skipif(
    not local_engine_available(), reason="the 'local' extra is not installed"
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "local"),
        ({"secret_id": "AKID", "secret_key": "k"}, "api"),
        ({"secret_id": "AKID"}, "api"),
        ({"secret_id": "AKID", "secret_key": "k", "engine": "local"}, "local"),
        ({"engine": "api"}, "api"),
    ],
)
def test_auto_uses_the_api_only_when_credentials_are_configured(values: dict,
                                                                 expected: str) -> None:
    assert resolve_engine_name(Settings(**values)) == expected


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCH_OCR_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-config")
    return env


@pytest.mark.slow
@needs_local
def test_samples_offline_without_credentials_match_the_fixtures(tmp_path: Path) -> None:
    """The README's quick start: the sample cards, offline, with no account, exit 0."""
    out = tmp_path / "results.csv"
    done = subprocess.run(
        [sys.executable, "-m", "batch_ocr", str(SAMPLES), "-o", str(out), "--portraits",
         str(tmp_path / "portraits")],
        env=_clean_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert ("batch-ocr: engine: local (offline, nothing leaves this machine; version 7)"
            in done.stderr)
    assert "batch-ocr: rows written: 11 (ok 10, not_id_card 1)" in done.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle)}
    fixtures = [json.loads(line) for line in
                (SAMPLES.parent / "fixtures.jsonl").read_text(encoding="utf-8").splitlines()]
    for entry in fixtures:
        row, info = rows[entry["file"]], entry["data"]["info"]
        assert (row["status"], row["side"], row["engine"]) == (
            "ok", entry["data"]["side"], "local"), entry["file"]
        if entry["data"]["side"] == "front":
            assert row["name"] == info["name"]
            assert row["id_number"].rstrip("\t") == info["number"]
            assert row["address"] == info["address"]
            assert Path(row["portrait_file"]).is_file()
        else:
            assert row["authority"] == info["authority"]
    assert rows["not_a_card.jpg"]["status"] == "not_id_card"
    assert "confidence" not in rows["zhangsan_front.jpg"]  # a JSONL-only column


@pytest.mark.slow
@needs_local
def test_offline_jsonl_rows_carry_the_confidence_of_each_field(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    for name in ("zhangsan_front.jpg", "wangli-反.tif", "not_a_card.jpg"):
        (scans / name).write_bytes((SAMPLES / name).read_bytes())
    out = tmp_path / "results.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "batch_ocr", str(scans), "-o", str(out), "--workers", "1"],
        env=_clean_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr
    rows = {row["file"]: row for row in map(json.loads, out.read_text("utf-8").splitlines())}
    front = rows["zhangsan_front.jpg"]["confidence"]
    assert set(front) == {"name", "sex", "nation", "birth_date", "address", "id_number"}
    assert all(0 < score <= 1 for score in front.values()), front
    assert set(rows["wangli-反.tif"]["confidence"]) == {"authority", "valid_from", "valid_to"}
    assert rows["not_a_card.jpg"]["confidence"] == {}


@pytest.mark.slow
@needs_local
async def test_a_worker_that_dies_gives_an_error_row_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    from batch_ocr.engines.local import LocalEngine
    from tests.engines.crashing_task import IMAGE_CRASH_MARKER, crash_on_marked_image
    from tests.pictures import marked

    scans = tmp_path / "scans"
    scans.mkdir()
    crash_note = PngInfo()
    crash_note.add_text("note", IMAGE_CRASH_MARKER.decode())
    marked((120, 80), "red").save(scans / "crash.png", pnginfo=crash_note)
    for index in range(3):
        marked((120, 80), (index * 60, 90, 200)).save(scans / f"ok{index}.png")
    engine = LocalEngine.on_processes(2, task=crash_on_marked_image)
    rows: list[Row] = []
    await engine.start()
    try:
        summary = await BatchRun(engine, [scans], rows.append).run()
    finally:
        await engine.aclose()
    by_file = {row.file: row for row in rows}
    assert sorted(by_file) == ["crash.png", "ok0.png", "ok1.png", "ok2.png"]
    assert by_file["crash.png"].status == "error"
    assert by_file["crash.png"].error_code == "local_worker_died"
    assert by_file["crash.png"].attempts == 2
    assert all(by_file[f"ok{i}.png"].status == "not_id_card" for i in range(3))
    assert summary.rows_written == 4
