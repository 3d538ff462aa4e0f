"""Pages of several cards through a whole run: offline, and through the API emulator.

What a user checks (docs/documents.md): a two-sided copy is one row with side ``both``
and every field; a page of four sides is four numbered rows; a bank card beside an ID
card adds no row; a rerun pays nothing and keeps every row; through the API a two-sided
page costs exactly two billable calls, which ``--dry-run`` announces.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.card_pages import make_samples, page_bytes, people
from tests.e2e_support import demo_env, stats_of
from tests.skips import needs_local

pytestmark = [
    needs_local,
    pytest.mark.slow,
]


def _folder(tmp_path: Path, *names: str) -> tuple[Path, list[Any]]:
    """Pages named ``copy.png`` (front + back), ``four.png``, ``desk.jpg`` (ID + bank)."""
    samples = make_samples()
    a, b = people(2, seed=21)
    layouts = {
        "copy.png": samples.CardPage("copy", (samples.PageCard("front", a),
                                              samples.PageCard("back", a, upside_down=True))),
        "four.png": samples.CardPage("four", (samples.PageCard("front", a),
                                              samples.PageCard("back", a),
                                              samples.PageCard("front", b),
                                              samples.PageCard("back", b)), columns=2),
        "desk.jpg": samples.CardPage("desk", (samples.PageCard("bank"),
                                              samples.PageCard("front", b)),
                                     columns=2, grey=False, stamps=False, desk=True),
    }  # fmt: skip
    scans = tmp_path / "scans"
    scans.mkdir()
    for name in names:
        (scans / name).write_bytes(page_bytes(layouts[name]))
    return scans, [a, b]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "batch_ocr", *args], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_offline_run_over_pages_of_cards(tmp_path: Path) -> None:
    scans, (a, b) = _folder(tmp_path, "copy.png", "four.png", "desk.jpg")
    out = tmp_path / "out.csv"
    args = (str(scans), "-o", str(out), "--engine", "local", "--workers", "1",
            "--portraits", str(tmp_path / "faces"), "--as-of", "2026-01-01")  # fmt: skip
    done = _run(*args)
    assert done.returncode == 0, done.stderr
    columns, rows = _rows(out)
    assert columns[-2:] == ["card", "escalated_for"]  # appended after every earlier column
    shown = [(r["file"], r["card"], r["side"], r["status"]) for r in rows]
    assert shown == [
        ("copy.png", "", "both", "ok"),
        ("desk.jpg", "", "front", "ok"),
        ("four.png", "1", "front", "ok"), ("four.png", "2", "back", "ok"),
        ("four.png", "3", "front", "ok"), ("four.png", "4", "back", "ok"),
    ]  # fmt: skip
    copy = rows[0]
    assert (copy["name"], copy["id_number"].rstrip("\t"), copy["authority"]) == (
        a.name, a.number, a.authority)
    assert copy["valid_from"] == a.valid_from.isoformat()
    assert Path(copy["portrait_file"]).name == "copy.png.jpg"
    assert Path(rows[2]["portrait_file"]).name == "four.png-card1.jpg"
    assert rows[1]["name"] == b.name  # the ID card beside the bank card
    assert "行" not in rows[1]["name"] and not rows[1]["authority"]

    again = _run(*args)
    assert again.returncode == 0, again.stderr
    assert _rows(out)[1] == rows  # nothing redone, every card row kept


def test_pair_takes_a_two_sided_page_as_a_complete_card(tmp_path: Path) -> None:
    scans, (a, _) = _folder(tmp_path, "copy.png")
    out = tmp_path / "cards.csv"
    done = _run(str(scans), "-o", str(out), "--engine", "local", "--workers", "1", "--pair")
    assert done.returncode == 0, done.stderr
    _, rows = _rows(out)
    assert [(r["front_file"], r["back_file"], r["pair_status"]) for r in rows] == [
        ("copy.png", "copy.png", "complete")]
    assert (rows[0]["name"], rows[0]["authority"]) == (a.name, a.authority)


def test_a_two_sided_page_through_the_api_costs_two_billable_calls(tmp_path: Path,
                                                                   healthy: str) -> None:
    scans, (a, _) = _folder(tmp_path, "copy.png")
    out = tmp_path / "out.csv"
    # The session's emulator reading with the local engine, its counters zeroed.
    env = demo_env(BATCH_OCR_ENDPOINT=healthy)
    dry = _run(str(scans), "-o", str(out), "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "a real run would make 2 calls" in dry.stderr
    assert stats_of(healthy)["calls"] == 0
    done = _run(str(scans), "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr
    stats = stats_of(healthy)
    assert stats["billable"] == 2 and stats["calls"] == 2
    _, rows = _rows(out)
    assert len(rows) == 1
    row = rows[0]
    assert (row["side"], row["status"], row["engine"], row["card"]) == ("both", "ok", "api", "")
    assert (row["name"], row["id_number"].rstrip("\t")) == (a.name, a.number)
    assert (row["authority"], row["valid_from"]) == (a.authority, a.valid_from.isoformat())
    # The copy is stamped 复印无效 on the nation's row and watermarked 仅限/仅供…使用: the
    # emulator's answers go through the same stamp rule as the offline engine's rows.
    assert (row["nation"], row["address"]) == (a.nation, a.address)
    assert row["attempts"] == "2"


def test_pdf_and_tiff_copies_give_both_sides_per_page(tmp_path: Path) -> None:
    """The generator's scanned documents: each page a grey copy of one person's card."""
    import json

    scans = tmp_path / "scans"
    make_samples().write_documents(scans)
    truths = [json.loads(line) for line in
              (scans / "documents.jsonl").read_text(encoding="utf-8").splitlines()]  # fmt: skip
    (scans / "documents.jsonl").unlink()
    out = tmp_path / "out.csv"
    done = _run(str(scans), "-o", str(out), "--engine", "local", "--workers", "1")
    assert done.returncode == 0, done.stderr
    rows = {(r["file"], r["page"]): r for r in _rows(out)[1]}
    assert len(rows) == len(truths)
    for truth in truths:
        row = rows[(truth["file"], str(truth["page"]))]
        assert (row["side"], row["card"], row["status"]) == ("both", "", "ok")
        front, back = truth["front"], truth["back"]
        assert (row["name"], row["id_number"].rstrip("\t"), row["address"]) == (
            front["name"], front["number"], front["address"])
        assert row["authority"] == back["authority"]
