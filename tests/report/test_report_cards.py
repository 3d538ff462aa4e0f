"""The review page's entries for rows of pages with several cards."""

from __future__ import annotations

from report_fakes import base_row

from batch_ocr.report.entries import build_entry


def test_a_both_row_shows_every_field_of_both_sides() -> None:
    row = base_row("scans/copy.png", side="both", name="张三", id_number="110101199003071234",
                   authority="北京市公安局东城分局", valid_from="2015-03-01", valid_to="长期",
                   invalid_fields=["authority"])  # fmt: skip
    entry = build_entry(row, 0)
    assert entry["side"] == "both" and entry["files"] == ["scans/copy.png"]
    shown = {label.split()[0]: (value, flagged) for label, value, flagged in entry["fields"]}
    assert shown["Name"] == ("张三", False)
    assert shown["Authority"] == ("北京市公安局东城分局", True)
    assert shown["Valid"] == ("长期", False)  # the last of the two validity fields


def test_a_numbered_card_says_which_card_of_its_page_it_is() -> None:
    entry = build_entry(base_row("scans/four.pdf", side="back", page=3, card=2,
                                 authority="某公安局"), 3)  # fmt: skip
    # Shown in the entry's head (and filtered by), not repeated under "details".
    assert (entry["page"], entry["card"]) == (3, 2)
    assert not [d for d in entry["details"] if d[0] in ("page", "card")]
    single = build_entry(base_row("x.png"), 0)
    assert (single["page"], single["card"]) == (None, None)


def test_page_and_card_read_back_from_csv_text() -> None:
    entry = build_entry(base_row("scans/four.pdf", page="12", card=""), 0)
    assert (entry["page"], entry["card"]) == (12, None)
