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
    entry = build_entry(base_row("scans/four.png", side="back", card=2,
                                 authority="某公安局"), 3)  # fmt: skip
    assert ["card", "2"] in entry["details"]
    assert base_row("x.png")["card"] is None
    assert not [d for d in build_entry(base_row("x.png"), 0)["details"] if d[0] == "card"]
