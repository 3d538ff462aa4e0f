"""review: whether a row needs a person, and the stable reason codes (docs/warnings-and-review.md)."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from batch_ocr.engines.base import Engine, EngineResult
from batch_ocr.run.present.review import (
    LOW_CONFIDENCE_BELOW,
    card_reasons,
    card_warnings,
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
        warnings=["copy", "glare"],
    )  # fmt: skip
    confidence = {"name": 0.99, "address": LOW_CONFIDENCE_BELOW - 0.01, "number": 0.2}
    assert with_review(row, confidence=confidence).review_reasons == [
        "missing:sex",
        "invalid:address",
        "check:id_checksum",
        "check:id_sex_mismatch",
        "warning:copy",
        "warning:glare",
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
    blurred = dataclasses.replace(row, warnings=["blur"])
    assert with_review(blurred).review_reasons == [f"status:{status}", "warning:blur"]


def test_a_card_collects_its_sides_reasons_and_flags_an_incomplete_pair() -> None:
    front = with_review(dataclasses.replace(FRONT, warnings=["copy"]))
    back = with_review(dataclasses.replace(BACK, warnings=["copy", "blur"]))
    assert card_warnings([front, back]) == ["copy", "blur"]
    assert card_reasons([front, back], "complete") == ["warning:copy", "warning:blur"]
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
    before = _runner(tmp_path, as_of=datetime.date(2024, 1, 1)).present(back)
    after = _runner(tmp_path, as_of=datetime.date(2026, 1, 1)).present(back)
    assert before.needs_review is False and before.review_reasons == []
    assert after.needs_review is True and after.review_reasons == ["check:expired"]


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
