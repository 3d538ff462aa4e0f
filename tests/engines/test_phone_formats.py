"""A phone's HEIC and WebP photos of a card, read offline end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from batch_ocr.cli import main
from batch_ocr.engines.local import available
from tests.e2e_support import SAMPLES

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not available(), reason="the local engine is not installed")]


def test_heic_front_and_webp_back_are_recognised_offline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    for key in list(os.environ):
        if key.startswith("BATCH_OCR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    scans = tmp_path / "scans"
    scans.mkdir()
    with Image.open(SAMPLES / "zhangsan_front.jpg") as front:
        front.save(scans / "zhangsan_front.heic", quality=90)
    with Image.open(SAMPLES / "zhangsan_back.png") as back:
        back.convert("RGB").save(scans / "zhangsan_back.webp", quality=90)
    out = tmp_path / "out.jsonl"

    assert main([str(scans), "-o", str(out), "--engine", "local", "--workers", "1"]) == 0

    rows = {row["file"]: row for row in map(json.loads, out.read_text().splitlines())}
    front_row, back_row = rows["zhangsan_front.heic"], rows["zhangsan_back.webp"]
    assert (front_row["side"], front_row["name"], front_row["id_number"]) == (
        "front", "张三", "360113199010099893")
    assert (back_row["side"], back_row["valid_to"]) == ("back", "2038-07-27")
