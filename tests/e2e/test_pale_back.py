"""A copy whose back came out as pale as the paper: no side lost, offline or through the API.

What a user checks (docs/documents.md): the back's edges vanished into
the paper but its print did not, so the page is still one ``both`` row with every
field; through the API it costs exactly two billable calls. A page of one card gains no
card and no call. A back whose print shows but cannot be read is never lost in silence:
the row says ``side_unread`` and needs review.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.card_pages import (
    PALE_BACK,
    make_samples,
    people,
    scanned_copy,
    scanned_copy_truth,
    smeared_back_copy,
)
from tests.e2e_support import demo_env, read_rows, stats_of
from tests.skips import needs_local

pytestmark = [
    needs_local,
    pytest.mark.slow,
]


def _one_card_copy() -> bytes:
    """An office's scan of a copy of one front and nothing else."""
    import random

    from tests.card_pages import encode_page, page_image

    samples = make_samples()
    page = samples.CardPage("one", (samples.PageCard("front", people(1, seed=11)[0]),),
                            scan_edge=True)  # fmt: skip
    return page_image(encode_page(samples.draw_card_page(page, random.Random(2), dpi=150),
                                  "jpeg75"))  # fmt: skip


def _scans(folder: Path, **pages: bytes) -> Path:
    folder.mkdir()
    for name, data in pages.items():
        (folder / f"{name}.jpg").write_bytes(data)
    return folder


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "batch_ocr", *args, "--as-of", "2026-01-01"],
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip


def _by_file(out: Path) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in read_rows(out):
        rows.setdefault(row["file"], []).append(row)
    return rows


def _assert_both_sides(rows: list[dict[str, Any]]) -> None:
    truth = scanned_copy_truth()
    (row,) = rows
    assert (row["status"], row["side"], row["card"]) == ("ok", "both", None)
    assert (row["name"], row["id_number"], row["address"]) == (
        truth["name"], truth["number"], truth["address"])
    period = f"{row['valid_from']}{row['valid_to']}".replace("-", "")
    assert (row["authority"], period) == (truth["authority"], truth["timelimit"].replace("-", ""))
    assert "side_unread" not in row["warnings"]


def _assert_one_front(rows: list[dict[str, Any]]) -> None:
    (row,) = rows
    assert (row["status"], row["side"], row["card"]) == ("ok", "front", None)
    assert row["name"] == scanned_copy_truth()["name"]
    assert "side_unread" not in row["warnings"]


def _assert_side_unread(rows: list[dict[str, Any]]) -> None:
    (row,) = rows
    assert (row["status"], row["side"]) == ("ok", "front")
    assert row["name"] == scanned_copy_truth()["name"]
    assert "side_unread" in row["warnings"]
    assert row["needs_review"] and "warning:side_unread" in row["review_reasons"]


def test_offline_a_pale_back_is_read_and_one_card_gains_nothing(tmp_path: Path) -> None:
    scans = _scans(tmp_path / "scans", pale=scanned_copy("jpeg75", washed_out=PALE_BACK),
                   one=_one_card_copy(), smeared=smeared_back_copy())  # fmt: skip
    out = tmp_path / "out.jsonl"
    done = _run(str(scans), "-o", str(out), "--engine", "local", "--workers", "1")
    assert done.returncode == 0, done.stderr
    rows = _by_file(out)
    _assert_both_sides(rows["pale.jpg"])
    _assert_one_front(rows["one.jpg"])
    _assert_side_unread(rows["smeared.jpg"])


def test_through_the_api_a_pale_back_costs_one_more_call_and_one_card_none(
    tmp_path: Path, healthy: str
) -> None:
    pale = _scans(tmp_path / "pale", pale=scanned_copy("jpeg75", washed_out=PALE_BACK))
    one = _scans(tmp_path / "one", one=_one_card_copy())
    smeared = _scans(tmp_path / "smeared", smeared=smeared_back_copy())
    # The session's emulator reading with the local engine, its counters zeroed.
    url = healthy
    env = demo_env(BATCH_OCR_ENDPOINT=url)
    dry = _run(str(pale), "-o", str(tmp_path / "dry.jsonl"), "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "a real run would make 2 calls" in dry.stderr

    done = _run(str(pale), "-o", str(tmp_path / "pale.jsonl"), env=env)
    assert done.returncode == 0, done.stderr
    assert stats_of(url)["billable"] == 2
    _assert_both_sides(_by_file(tmp_path / "pale.jsonl")["pale.jpg"])

    done = _run(str(one), "-o", str(tmp_path / "one.jsonl"), env=env)
    assert done.returncode == 0, done.stderr
    assert stats_of(url)["billable"] == 3  # the page sent whole: one call
    _assert_one_front(_by_file(tmp_path / "one.jsonl")["one.jpg"])

    done = _run(str(smeared), "-o", str(tmp_path / "smeared.jsonl"), env=env)
    assert done.returncode == 0, done.stderr
    assert stats_of(url)["billable"] == 5
    _assert_side_unread(_by_file(tmp_path / "smeared.jsonl")["smeared.jpg"])
