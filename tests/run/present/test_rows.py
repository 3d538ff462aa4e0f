"""Provider answers to rows (``batch_ocr/run/present/rows.py``), using ``API_CONTRACT.md`` examples."""

from __future__ import annotations

from typing import Any

import pytest

from batch_ocr.columns import CSV_COLUMNS, JSONL_COLUMNS, invalid_columns
from batch_ocr.provider.models import CardData
from batch_ocr.run.present.rows import (
    LONG_TERM,
    classify,
    row_from_card,
    split_timelimit,
)
from batch_ocr.statuses import CLEAN_STATUSES

PINNED_COLUMNS = (
    "file", "status", "side", "name", "sex", "nation", "birth_date", "address", "id_number",
    "authority", "valid_from", "valid_to", "invalid_fields", "order_no", "portrait_url",
    "error_code", "error_message", "attempts", "sha256",
)

# ``data`` of the contract's front example, verbatim.
FRONT = {
    "order_no": "578630091093970000", "result": 0, "side": "front",
    "info": {"name": "张三", "sex": "女", "nation": "汉", "year": "1990", "month": "10", "day": "9",
             "address": "江西省南昌市红谷滩新区0号楼0单元0室", "number": "360429199010090000"},
    "validity": {"name": True, "sex": True, "birthday": True, "address": True, "number": True},
    "image_url": "http://example.invalid/20.png",
}
BACK = {
    "order_no": "578630091093970001", "result": 0, "side": "back",
    "info": {"authority": "南昌市公安局昌北分局", "timelimit": "20180727-20380727"},
    "validity": {"authority": True, "timelimit": True},
    "image_url": None,
}


def card(base: dict[str, Any], **changes: Any) -> CardData:
    data = {**base, **changes}
    if "info" in changes:
        data["info"] = {**base["info"], **changes["info"]}
    return CardData.model_validate(data)


def test_pinned_columns_come_first_in_order() -> None:
    assert CSV_COLUMNS[: len(PINNED_COLUMNS)] == PINNED_COLUMNS
    assert JSONL_COLUMNS[: len(PINNED_COLUMNS)] == PINNED_COLUMNS
    assert "validity" in JSONL_COLUMNS and "validity" not in CSV_COLUMNS
    assert "confidence" in JSONL_COLUMNS and "confidence" not in CSV_COLUMNS
    assert len(set(JSONL_COLUMNS)) == len(JSONL_COLUMNS)


def test_front_example_becomes_a_full_row() -> None:
    row = row_from_card("a/张三.jpg", card(FRONT), attempts=2, sha256="ab" * 32)

    pinned = {column: value for column, value in row.to_dict().items() if column in PINNED_COLUMNS}
    assert pinned == {
        "file": "a/张三.jpg", "status": "ok", "side": "front", "name": "张三", "sex": "女",
        "nation": "汉", "birth_date": "1990-10-09",
        "address": "江西省南昌市红谷滩新区0号楼0单元0室", "id_number": "360429199010090000",
        "authority": "", "valid_from": "", "valid_to": "", "invalid_fields": [],
        "order_no": "578630091093970000", "portrait_url": "http://example.invalid/20.png",
        "error_code": "", "error_message": "", "attempts": 2, "sha256": "ab" * 32,
    }
    assert row.validity == FRONT["validity"]


def test_back_example_splits_the_validity_period() -> None:
    row = row_from_card("b.jpg", card(BACK), attempts=1, sha256="")

    assert (row.status, row.side, row.authority) == ("ok", "back", "南昌市公安局昌北分局")
    assert (row.valid_from, row.valid_to) == ("2018-07-27", "2038-07-27")
    assert (row.portrait_url, row.name, row.birth_date) == ("", "", "")


@pytest.mark.parametrize(
    ("timelimit", "expected"),
    [
        ("20180727-20380727", ("2018-07-27", "2038-07-27")),
        ("20180727-长期", ("2018-07-27", LONG_TERM)),
        ("2018.07.27-2038.07.27", ("2018-07-27", "2038-07-27")),
        ("2018.7.7-2038.7.7", ("2018-07-07", "2038-07-07")),
        (" 20180727 - 20380727 ", ("2018-07-27", "2038-07-27")),
        ("20180727", ("2018-07-27", "")),
        ("", ("", "")),
        (None, ("", "")),
        ("unreadable-smudge", ("unreadable", "smudge")),  # kept as printed, not dropped
    ],
)
def test_split_timelimit(timelimit: str | None, expected: tuple[str, str]) -> None:
    assert split_timelimit(timelimit) == expected


def test_open_ended_card_keeps_long_term() -> None:
    row = row_from_card("b.jpg", card(BACK, info={"timelimit": "20180727-长期"}), attempts=1,
                        sha256="")

    assert (row.valid_from, row.valid_to) == ("2018-07-27", "长期")


@pytest.mark.parametrize(
    ("year", "month", "day", "birth_date"),
    [
        ("1990", "10", "9", "1990-10-09"),
        ("2001", "1", "1", "2001-01-01"),
        ("1990", "10", "", "1990-10-"),  # partial text is kept, not invented
        (None, None, None, ""),
    ],
)
def test_birth_date(year: str | None, month: str | None, day: str | None, birth_date: str) -> None:
    data = card(FRONT, info={"year": year, "month": month, "day": day})

    assert row_from_card("a.jpg", data, attempts=1, sha256="").birth_date == birth_date


def test_all_validity_false_is_not_an_id_card_with_no_side() -> None:
    validity = dict.fromkeys(FRONT["validity"], False)
    data = card(FRONT, validity=validity, info={"name": "某某"})

    row = row_from_card("cat.jpg", data, attempts=1, sha256="")

    assert classify(data) == "not_id_card"
    assert (row.status, row.side) == ("not_id_card", "")
    # No ID card, no field of one to call invalid: both engines' rows alike.
    assert (row.invalid_fields, row.validity) == ([], {})


def test_invalid_fields_name_the_columns_the_provider_keys_fill() -> None:
    back = row_from_card("b.jpg", card(BACK, validity={"authority": True, "timelimit": False}),
                         attempts=1, sha256="")
    assert back.invalid_fields == ["valid_from", "valid_to"]
    assert back.validity == {"authority": True, "timelimit": False}
    front = row_from_card("f.jpg", card(FRONT, validity={**FRONT["validity"], "number": False,
                                                         "birthday": False}),
                          attempts=1, sha256="")
    assert front.invalid_fields == ["birth_date", "id_number"]
    # What earlier versions wrote (the provider's names) reads as the same columns.
    assert invalid_columns(["timelimit", "number"]) == ["id_number", "valid_from", "valid_to"]
    assert invalid_columns(["id_number", "birthday", "birth_date"]) == ["birth_date",
                                                                        "id_number"]


def test_empty_validity_is_not_an_id_card() -> None:
    assert classify(card(FRONT, validity={})) == "not_id_card"


def test_result_1_is_scan_failed() -> None:
    data = card(FRONT, result=1)

    row = row_from_card("blur.jpg", data, attempts=1, sha256="")

    assert (classify(data), row.status) == ("scan_failed", "scan_failed")
    assert row.status in CLEAN_STATUSES


def test_invalid_fields_lists_the_false_flags_sorted() -> None:
    validity = {"number": False, "name": True, "address": False, "birthday": False, "sex": True}

    row = row_from_card("a.jpg", card(FRONT, validity=validity), attempts=1, sha256="")

    assert row.status == "ok"
    assert row.invalid_fields == ["birth_date", "address", "id_number"]


@pytest.mark.parametrize(("side", "expected"), [("front", "front"), ("back", "back"),
                                                ("sideways", ""), (None, "")])
def test_side_is_only_front_or_back(side: str | None, expected: str) -> None:
    assert row_from_card("a.jpg", card(FRONT, side=side), attempts=1, sha256="").side == expected


def test_confidence_is_a_jsonl_column_after_validity() -> None:
    assert JSONL_COLUMNS.index("confidence") > JSONL_COLUMNS.index("validity")
    scores = {"name": 0.97, "id_number": 0.99}
    row = row_from_card("a.jpg", card(FRONT), attempts=1, sha256="ab" * 32, confidence=scores)
    assert row.to_dict()["confidence"] == scores
    assert row.confidence is not scores  # the row owns its copy


def test_api_rows_carry_no_confidence() -> None:
    row = row_from_card("a.jpg", card(FRONT), attempts=1, sha256="ab" * 32)
    assert row.to_dict()["confidence"] == {}


def test_no_confidence_for_what_is_not_a_card() -> None:
    validity = dict.fromkeys(FRONT["validity"], False)
    row = row_from_card("a.jpg", card(FRONT, validity=validity), attempts=1, sha256="ab" * 32,
                        confidence={"name": 0.2})
    assert row.status == "not_id_card" and row.confidence == {}
