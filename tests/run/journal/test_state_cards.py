"""The journal keeps every row of an image that held several cards."""

from __future__ import annotations

import json
from pathlib import Path

from batch_ocr.run.journal.state import FileStamp, Journal, rows_from_json, rows_to_json
from batch_ocr.run.present.rows import Row


def _card(card: int | None, side: str, sha256: str = "s1") -> Row:
    return Row(file="four.png", status="ok", side=side, card=card, sha256=sha256)


def test_every_card_row_is_kept_and_rebuilt_in_order(tmp_path: Path) -> None:
    rows = [_card(1, "front"), _card(2, "back"), _card(3, "front")]
    with Journal(tmp_path / "state.sqlite") as journal:
        journal.record(tmp_path / "four.png", FileStamp(10, 1), rows, retryable=False)
        journal.record(tmp_path / "one.png",
                       FileStamp(5, 1), Row(file="one.png", status="ok", side="both", sha256="s2"),
                       retryable=False)  # fmt: skip
        assert list(journal.rows()) == [*rows, Row(file="one.png", status="ok", side="both",
                                                   sha256="s2")]  # fmt: skip
        assert journal.final_rows_for_content("s1") == rows
        assert journal.final_rows_for_content("nothing") is None
        assert journal.count_by_status() == {"ok": 4}  # the rows the output holds


def test_one_row_is_stored_as_earlier_versions_stored_it() -> None:
    row = Row(file="a.jpg", status="ok", side="front", name="张三")
    assert isinstance(json.loads(rows_to_json([row])), dict)
    assert rows_from_json(rows_to_json([row])) == [row]
    two = [_card(1, "front"), _card(2, "back")]
    assert isinstance(json.loads(rows_to_json(two)), list)
    assert rows_from_json(rows_to_json(two)) == two
