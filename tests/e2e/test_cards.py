"""Issue 7's acceptance run: one row per person, portraits on disk, flags, masking."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from batch_ocr.cli import main
from tests.e2e_support import FIXTURES, SAMPLES, emulator_in_thread

AS_OF = "2026-11-24"


pytestmark = pytest.mark.usefixtures("demo_keys")


@pytest.fixture
def card_folder(tmp_path: Path) -> tuple[Path, Path, list[dict]]:
    """Samples in mixed naming conventions, one mislabelled pair, one bad-checksum card."""
    scans = tmp_path / "scans"
    scans.mkdir()
    entries = [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines()]
    for entry in entries:
        shutil.copy(SAMPLES / entry["file"], scans / entry["file"])
    # Mislabelled: the names say the opposite of what the images show.
    (scans / "lixiaohong_front.bmp").rename(scans / "lixiaohong_back.bmp")
    (scans / "lixiaohong_back.gif").rename(scans / "lixiaohong_front.gif")
    # A card whose number does not add up: same person as 张三, check digit changed.
    front = next(e for e in entries if e["file"] == "zhangsan_front.jpg")
    back = next(e for e in entries if e["file"] == "zhangsan_back.png")
    extra = []
    for entry, name in ((front, "zhao正面.png"), (back, "zhao反面.png")):
        with Image.open(SAMPLES / entry["file"]) as image:
            image.convert("RGB").rotate(0.5, fillcolor="white").save(scans / name)
        bad = copy.deepcopy(entry)
        bad["file"] = name
        bad["sha256"] = hashlib.sha256((scans / name).read_bytes()).hexdigest()
        bad["data"]["order_no"] = None
        if entry is front:
            bad["data"]["info"]["name"] = "赵小明"
            number = bad["data"]["info"]["number"]
            bad["data"]["info"]["number"] = number[:-1] + ("1" if number[-1] != "1" else "2")
        extra.append(bad)
    fixtures = tmp_path / "fixtures.jsonl"
    fixtures.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in entries + extra),
                        encoding="utf-8")
    return scans, fixtures, entries + extra


def test_pair_with_portraits_gives_one_complete_row_per_person(
    tmp_path: Path, card_folder: tuple[Path, Path, list[dict]]
) -> None:
    scans, fixtures, entries = card_folder
    out = tmp_path / "cards.csv"
    portraits = tmp_path / "portraits"
    with emulator_in_thread(fixture_paths=(fixtures,)) as emulator:
        code = main([str(scans), "-o", str(out), "--endpoint", emulator.url, "--pair",
                     "--portraits", str(portraits), "--as-of", AS_OF])
    assert code == 0
    with out.open(encoding="utf-8-sig", newline="") as handle:
        cards = list(csv.DictReader(handle))
    people = {card["name"]: card for card in cards}
    assert sorted(people) == sorted(["张三", "李小红", "王丽", "阿依古丽·买买提", "欧阳明", "赵小明"])
    assert {card["pair_status"] for card in cards} == {"complete"}
    mislabelled = people["李小红"]
    assert (mislabelled["front_file"], mislabelled["back_file"]) == (
        "lixiaohong_back.bmp", "lixiaohong_front.gif")
    for card in cards:
        portrait = Path(card["front_portrait_file"])
        assert portrait.is_file() and portrait.is_relative_to(portraits), card["name"]
        with Image.open(portrait) as image:
            assert image.size[0] > 20
        assert oct(portrait.stat().st_mode & 0o777) == "0o600"
    assert (portraits / "lixiaohong_back.bmp.jpg").is_file()  # the front's file name, mirrored
    assert "expired" in people["李小红"]["checks"].split(";")
    assert "id_checksum" in people["赵小明"]["checks"].split(";")
    assert people["张三"]["checks"] == ""
    assert people["王丽"]["valid_to"] == "长期"


@pytest.mark.slow  # 1.3 s: the fast suite stays under a minute
def test_mask_leaves_no_full_name_or_number_in_any_output(
    tmp_path: Path, card_folder: tuple[Path, Path, list[dict]]
) -> None:
    scans, fixtures, entries = card_folder
    summary = tmp_path / "summary.json"
    outputs = [tmp_path / "rows.jsonl", tmp_path / "rows.csv", tmp_path / "cards.csv"]
    with emulator_in_thread(fixture_paths=(fixtures,)) as emulator:
        for out in outputs:
            extra = ["--pair"] if out.name == "cards.csv" else []
            assert main([str(scans), "-o", str(out), "--endpoint", emulator.url, "--mask",
                         "--summary-json", str(summary), "--as-of", AS_OF, *extra]) == 0
    fronts = [e["data"]["info"] for e in entries if e["data"]["side"] == "front"]
    for out in [*outputs, summary]:
        text = out.read_text(encoding="utf-8")
        for info in fronts:
            assert info["number"] not in text, out.name
            assert info["name"] not in text, out.name
            assert info["address"] not in text, out.name
    rows = [json.loads(line) for line in outputs[0].read_text(encoding="utf-8").splitlines()]
    zhang = next(r for r in rows if r["file"] == "zhangsan_front.jpg")
    assert zhang["name"] == "张*"
    assert zhang["id_number"] == "360113********9893"
    assert zhang["address"].endswith("****")
