"""review: whether a row needs a person, and the stable reason codes (docs/warnings-and-review.md)."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from batch_ocr.engines.base import Engine, EngineResult
from batch_ocr.run.present.pairing import FRONT_FIELDS as FRONT_COLUMNS
from batch_ocr.run.present.review import (
    DOCUMENT_RISKS,
    LOW_CONFIDENCE_BELOW,
    PLACED,
    PLACED_RISKS,
    card_reasons,
    card_warnings,
    parse_review_on,
    placed_mark,
    review_reasons,
    with_review,
)
from batch_ocr.run.present.rows import Row
from batch_ocr.run.runner import OutputView, Runner
from batch_ocr.settings import Settings
from batch_ocr.vision.imaging import PreparedImage

FRONT = Row(
    file="zhangsan_front.jpg", status="ok", side="front", name="张三", sex="男", nation="汉",
    birth_date="1990-10-09", address="江西省南昌市红谷滩区丰和中大道1001号",
    id_number="360113199010091234",
)  # fmt: skip
BACK = Row(
    file="zhangsan_back.png", status="ok", side="back", authority="南昌市公安局红谷滩分局",
    valid_from="2018-07-27", valid_to="2038-07-27",
)  # fmt: skip


def test_a_clean_card_side_needs_nothing() -> None:
    assert review_reasons(FRONT) == []
    assert review_reasons(BACK) == []
    reviewed = with_review(FRONT)
    assert reviewed.needs_review is False and reviewed.review_reasons == []


def test_missing_fields_are_named_by_column_for_the_side() -> None:
    row = dataclasses.replace(FRONT, name="", address="  ")
    assert review_reasons(row) == ["missing:name", "missing:address"]
    back = dataclasses.replace(BACK, valid_to="")
    assert review_reasons(back) == ["missing:valid_to"]


def test_invalid_fields_use_columns_and_do_not_repeat_missing_ones() -> None:
    row = dataclasses.replace(FRONT, name="", invalid_fields=["birthday", "name", "number"])
    assert review_reasons(row) == ["missing:name", "invalid:birth_date", "invalid:id_number"]
    back = dataclasses.replace(BACK, invalid_fields=["timelimit"])
    assert review_reasons(back) == ["invalid:valid_from", "invalid:valid_to"]


def test_every_kind_of_reason_in_its_order() -> None:
    row = dataclasses.replace(
        FRONT, sex="", invalid_fields=["address"], checks=["id_checksum", "id_sex_mismatch"],
        warnings=["copy", "side_unread"],
    )  # fmt: skip
    confidence = {"name": 0.99, "address": LOW_CONFIDENCE_BELOW - 0.01, "number": 0.2}
    assert with_review(row, confidence=confidence, review_on=("copy",)).review_reasons == [
        "missing:sex",
        "invalid:address",
        "check:id_checksum",
        "check:id_sex_mismatch",
        "warning:copy",
        "warning:side_unread",
        "low_confidence:address",
        "low_confidence:id_number",
    ]


def test_the_rows_own_confidence_is_used() -> None:
    row = dataclasses.replace(FRONT, confidence={"name": 0.99, "address": 0.42})
    assert with_review(row).review_reasons == ["low_confidence:address"]


def test_confidence_at_the_threshold_is_not_low_and_absent_confidence_says_nothing() -> None:
    assert review_reasons(FRONT, confidence={"name": LOW_CONFIDENCE_BELOW}) == []
    assert review_reasons(FRONT, confidence={}) == []
    assert review_reasons(FRONT) == []  # API rows carry no confidence


@pytest.mark.parametrize("status", ["error", "rejected", "scan_failed", "not_id_card"])
def test_a_row_that_is_not_ok_always_needs_review(status: str) -> None:
    row = Row(file="x.jpg", status=status, error_code="timeout")  # type: ignore[arg-type]
    assert with_review(row).review_reasons == [f"status:{status}"]
    glared = dataclasses.replace(row, warnings=["glare"])
    assert with_review(glared).review_reasons == [f"status:{status}", "warning:glare"]


def test_a_card_collects_its_sides_reasons_and_flags_an_incomplete_pair() -> None:
    front = with_review(dataclasses.replace(FRONT, warnings=["copy"]), review_on=["copy"])
    back = with_review(dataclasses.replace(BACK, warnings=["copy", "glare"]), review_on=["copy"])
    assert card_warnings([front, back]) == ["copy", "glare"]
    assert card_reasons([front, back], "complete") == ["warning:copy", "warning:glare"]
    assert card_reasons([with_review(FRONT)], "front_only") == ["pair:front_only"]
    assert card_reasons([with_review(FRONT)], "complete") == []


class _NoEngine(Engine):
    """``present`` never recognises anything."""

    name = "none"

    async def recognise(self, image: PreparedImage) -> EngineResult:
        raise AssertionError("present() must not recognise")


def _runner(tmp_path: Path, **view: object) -> Runner:
    return Runner(Settings(), [tmp_path], str(tmp_path / "out.jsonl"), engine=_NoEngine(),
                  view=OutputView(**view))  # type: ignore[arg-type]


def test_present_reviews_after_the_checks_of_the_run_date(tmp_path: Path) -> None:
    back = dataclasses.replace(BACK, valid_from="2015-03-01", valid_to="2025-03-01")
    asked = {"review_on": ("expired",)}
    before = _runner(tmp_path, as_of=datetime.date(2024, 1, 1), **asked).present(back)
    after = _runner(tmp_path, as_of=datetime.date(2026, 1, 1), **asked).present(back)
    assert before.needs_review is False and before.review_reasons == []
    assert after.needs_review is True and after.review_reasons == ["check:expired"]
    # Not asked for: the check stays on the row, and the reading needs no one.
    quiet = _runner(tmp_path, as_of=datetime.date(2026, 1, 1)).present(back)
    assert quiet.checks == ["expired"] and quiet.needs_review is False


COPY = dataclasses.replace(FRONT, warnings=["copy"],
                           confidence=dict.fromkeys(FRONT_COLUMNS, 0.99))  # fmt: skip


def test_a_copy_read_whole_and_cross_checked_needs_no_review() -> None:
    shown = with_review(COPY, checks=[])
    assert shown.needs_review is False and shown.review_reasons == []
    assert shown.warnings == ["copy"]  # the document risk stays on the row


@pytest.mark.parametrize("risk", DOCUMENT_RISKS)
def test_a_document_risk_flags_a_row_only_when_asked(risk: str) -> None:
    row = (dataclasses.replace(BACK, checks=["expired"]) if risk == "expired"
           else dataclasses.replace(BACK, warnings=[risk]))  # fmt: skip
    reason = "check:expired" if risk == "expired" else f"warning:{risk}"
    assert review_reasons(row) == []
    assert review_reasons(row, review_on=(risk,)) == [reason]
    others = [r for r in DOCUMENT_RISKS if r != risk]
    assert review_reasons(row, review_on=others) == []


def test_a_side_seen_and_not_read_always_flags() -> None:
    row = dataclasses.replace(COPY, warnings=["copy", "side_unread"])
    assert review_reasons(row) == ["warning:side_unread"]


@pytest.mark.parametrize("warning", PLACED_RISKS)
def test_glare_or_an_object_flags_a_row_without_confidence_wherever_it_lies(warning: str
                                                                            ) -> None:  # fmt: skip
    # The API gives no confidence: nothing says which fields the spot lies on.
    assert review_reasons(dataclasses.replace(FRONT, warnings=[warning])) == [
        f"warning:{warning}"]


@pytest.mark.parametrize("warning", PLACED_RISKS)
def test_glare_or_an_object_off_every_field_flags_nothing_on_an_offline_row(warning: str
                                                                           ) -> None:  # fmt: skip
    # The offline engine lowered no field's confidence: the spot lies on none.
    row = dataclasses.replace(COPY, warnings=["copy", warning],
                              review_reasons=placed_mark(["copy", warning], COPY.confidence))
    assert review_reasons(row) == []
    shown = with_review(row)
    assert shown.warnings == ["copy", warning]  # the warning stays
    assert PLACED not in shown.review_reasons  # the mark is never shown


@pytest.mark.parametrize("warning", PLACED_RISKS)
def test_an_offline_row_recorded_before_glare_was_placed_is_still_flagged(warning: str
                                                                          ) -> None:  # fmt: skip
    # A row an earlier version journaled: its confidence was never lowered for the
    # spot, so on a rerun the warning itself still flags it.
    row = dataclasses.replace(COPY, warnings=[warning])
    assert review_reasons(row) == [f"warning:{warning}"]


@pytest.mark.parametrize("warning", PLACED_RISKS)
def test_glare_or_an_object_over_a_field_flags_that_field(warning: str) -> None:
    confidence = {**COPY.confidence, "name": 0.9}
    under = dataclasses.replace(COPY, warnings=[warning], confidence=confidence,
                                review_reasons=placed_mark([warning], confidence))
    assert review_reasons(under) == ["low_confidence:name"]


@pytest.mark.parametrize("check", ["id_checksum", "id_birth_mismatch", "id_sex_mismatch",
                                   "id_region_unknown", "nation_unknown",
                                   "validity_period_invalid"])  # fmt: skip
def test_a_failed_cross_check_flags_a_copy_too(check: str) -> None:
    assert review_reasons(COPY, checks=[check]) == [f"check:{check}"]


def test_a_copy_with_an_unsure_field_is_flagged_for_that_field() -> None:
    unsure = dataclasses.replace(COPY, confidence={**COPY.confidence, "address": 0.9})
    assert review_reasons(unsure) == ["low_confidence:address"]


def test_a_row_of_both_sides_names_its_missing_fields() -> None:
    both = dataclasses.replace(FRONT, side="both", authority="", valid_from="2018-07-27",
                               valid_to="2038-07-27")  # fmt: skip
    assert review_reasons(both) == ["missing:authority"]


def test_review_on_takes_a_list_or_commas_and_names_the_valid_risks() -> None:
    assert parse_review_on(" copy, expired ,copy") == ("copy", "expired")
    assert parse_review_on(["reshoot"]) == ("reshoot",)
    assert parse_review_on("") == ()
    with pytest.raises(ValueError, match=r"^unknown risk\(s\) glare; valid: "
                                         r"copy, reshoot, blur, border_incomplete, expired$"):
        parse_review_on("copy,glare")


def test_present_flags_the_risks_the_office_asked_for(tmp_path: Path) -> None:
    shown = _runner(tmp_path, review_on=("copy",)).present(COPY)
    assert shown.needs_review is True and shown.review_reasons == ["warning:copy"]


def test_present_masks_fields_but_not_the_reasons(tmp_path: Path) -> None:
    row = dataclasses.replace(FRONT, warnings=["occluded"])
    shown = _runner(tmp_path, as_of=datetime.date(2026, 1, 1), mask=True).present(row)
    assert shown.name == "张*" and shown.needs_review is True
    assert shown.review_reasons[-1] == "warning:occluded"
    assert shown.warnings == ["occluded"] and row.warnings == ["occluded"]


def test_a_disagreement_found_when_the_card_was_read_is_kept_and_flags_the_row() -> None:
    read = dataclasses.replace(FRONT, review_reasons=["disagree:name", "missing:name"])
    reviewed = with_review(read, checks=[])
    assert (reviewed.needs_review, reviewed.review_reasons) == (True, ["disagree:name"])
    assert with_review(reviewed, checks=[]).review_reasons == ["disagree:name"]  # once
    low = with_review(dataclasses.replace(read, confidence={"name": 0.1}), checks=[])
    assert low.review_reasons == ["low_confidence:name", "disagree:name"]
