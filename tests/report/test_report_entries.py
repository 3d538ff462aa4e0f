"""entries: what one row becomes on the page, and its place in the default order."""

from __future__ import annotations

from report_fakes import base_row, sample_rows

from batch_ocr.report.entries import (
    RANK_ERROR,
    RANK_FAILED,
    RANK_FLAGGED,
    RANK_NOT_CARD,
    RANK_OK,
    build_entry,
    flag_label,
    flagged_columns,
    flags_of,
)


def test_default_order_puts_errors_then_failures_then_flags_first() -> None:
    entries = [build_entry(row, i) for i, row in enumerate(sample_rows())]
    ranks = {entry["files"][0]: entry["rank"] for entry in entries}
    assert ranks["scans/busy.jpg"] == RANK_ERROR
    assert ranks["scans/empty.jpg"] == RANK_ERROR
    assert ranks["scans/blurry.jpg"] == RANK_FAILED
    assert ranks["scans/li_xiaohong.jpg"] == RANK_FLAGGED
    assert ranks["scans/wang_wu.jpg"] == RANK_FLAGGED
    assert ranks["scans/receipt.jpg"] == RANK_NOT_CARD
    assert ranks["scans/zhang_san.jpg"] == RANK_OK
    assert [e["is_error"] for e in entries].count(True) == 2


def test_flags_and_highlighted_fields() -> None:
    row = base_row(
        "a.jpg",
        checks=["id_checksum", "expired", "birth_date_mismatch"],
        invalid_fields=["timelimit"],
        name="张三",
        id_number="1101",
    )
    entry = build_entry(row, 0)
    # An output of an earlier version names the provider's key: it reads as the columns.
    assert entry["flags"] == ["id_checksum", "expired", "birth_date_mismatch",
                              "invalid:valid_from", "invalid:valid_to"]
    bad = {label.split(" ")[0] for label, _, is_bad in entry["fields"] if is_bad}
    # valid_from/valid_to have no value here but are listed because they are flagged.
    assert bad == {"ID", "Valid", "Born"}
    assert flag_label("id_checksum") == "ID number checksum fails"
    assert flag_label("invalid:id_number") == "ID number marked invalid"
    assert flag_label("invalid:valid_from") == "Valid from marked invalid"
    assert flag_label("invalid:number") == "ID number marked invalid"
    assert flag_label("some_new_check") == "some new check"


def test_invalid_fields_fall_back_to_validity() -> None:
    row = {"file": "a.jpg", "status": "ok", "validity": {"name": False, "number": True}}
    assert flags_of(row) == ["invalid:name"]
    assert flagged_columns(["invalid:birthday"]) == {"birth_date"}


def test_error_entry_carries_code_and_message() -> None:
    entry = build_entry(base_row("x.jpg", "error", error_code="501", error_message="busy"), 3)
    assert entry["errors"] == [["", "501", "busy"]]
    assert entry["index"] == 3 and entry["status"] == "error"


def test_details_hold_the_other_columns_but_not_empty_ones() -> None:
    entry = build_entry(base_row("x.jpg", order_no="A1", attempts=2), 0)
    details = dict(entry["details"])
    assert details["order_no"] == "A1" and details["attempts"] == "2"
    assert "portrait_url" not in details and "validity" not in details


def test_pair_row() -> None:
    row = {
        "front_file": "a.jpg",
        "back_file": "b.jpg",
        "pair_status": "complete",
        "name": "李小红",
        "front_status": "ok",
        "back_status": "error",
        "back_error_code": "501",
        "back_error_message": "busy",
        "checks": [],
    }
    entry = build_entry(row, 0)
    assert entry["pair"] is True
    assert entry["files"] == ["a.jpg", "b.jpg"]
    assert entry["status"] == "complete"
    assert entry["sides"] == [["front", "ok"], ["back", "error"]]
    assert entry["errors"] == [["back", "501", "busy"]]
    assert entry["rank"] == RANK_ERROR
    incomplete = build_entry({**row, "pair_status": "front_only", "back_status": ""}, 1)
    assert incomplete["rank"] == RANK_FAILED


def test_ambiguous_card_lists_every_clashing_image() -> None:
    row = {
        "front_file": "p/x_1.jpg|p/x_3.jpg",
        "back_file": "p/x_2.jpg",
        "pair_status": "ambiguous",
        "front_status": "ok|error",
        "back_status": "ok",
    }
    entry = build_entry(row, 0)
    assert entry["files"] == ["p/x_1.jpg", "p/x_3.jpg", "p/x_2.jpg"]
    assert entry["file_sides"] == ["front", "front", "back"]
    assert entry["sides"] == [["front", "ok"], ["front", "error"], ["back", "ok"]]
    assert entry["rank"] == RANK_ERROR
    assert build_entry({**row, "front_status": "ok|ok"}, 0)["rank"] == RANK_FAILED


def test_known_checks_highlight_both_fields_they_compare() -> None:
    assert flagged_columns(["id_birth_mismatch"]) == {"id_number", "birth_date"}
    assert flagged_columns(["validity_period_invalid"]) == {"valid_from", "valid_to"}
    assert flag_label("nation_unknown") == "Unknown ethnic group"


def test_entry_carries_the_review_signal_and_warnings() -> None:
    rows = {row["file"]: row for row in sample_rows()}
    entry = build_entry(rows["scans/li_xiaohong.jpg"], 0)
    assert entry["needs_review"] is True
    assert entry["warnings"] == ["glare"]
    assert entry["review_reasons"] == ["check:id_checksum", "warning:glare"]
    # Shown on the entry itself, so not repeated under "details".
    assert not {"warnings", "needs_review", "review_reasons"} & {k for k, _ in entry["details"]}
    assert build_entry(rows["scans/zhang_san.jpg"], 1)["needs_review"] is False


def test_review_without_flags_ranks_an_ok_card_as_flagged() -> None:
    row = base_row("a.jpg", side="front", name="张三", warnings=["copy"], needs_review=True,
                   review_reasons=["warning:copy"])
    assert build_entry(row, 0)["rank"] == RANK_FLAGGED
    accepted = base_row("b.jpg", side="front", name="张三")
    assert build_entry(accepted, 0)["rank"] == RANK_OK


def test_older_output_without_the_column_has_no_review_signal() -> None:
    row = base_row("a.jpg")
    del row["needs_review"], row["review_reasons"], row["warnings"]
    entry = build_entry(row, 0)
    assert entry["needs_review"] is None
    assert entry["warnings"] == [] and entry["review_reasons"] == []
