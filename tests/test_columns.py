"""The table of columns (``batch_ocr/columns.py``) and the modules that must follow it."""

from __future__ import annotations

import dataclasses
import typing

from batch_ocr import columns
from batch_ocr.columns import Kind
from batch_ocr.run.output.csv_writer import EXCEL_TEXT_COLUMNS
from batch_ocr.run.output.xlsx_writer import NUMBER_COLUMNS
from batch_ocr.run.present.pairing import PairedCard
from batch_ocr.run.present.rows import Row

#: What a row's value is, per kind (``Row``'s annotations, as strings).
ROW_TYPES = {
    Kind.TEXT: "str",
    Kind.DATE: "str",
    Kind.DIGITS: "str",
    Kind.COUNT: "int",
    Kind.NUMBER: "int | None",
    Kind.FLAG: "bool",
    Kind.LIST: "list[str]",
    Kind.FLAGS: "dict[str, bool]",
    Kind.SCORES: "dict[str, float]",
}


def test_row_has_the_tables_columns_in_order_with_their_kinds() -> None:
    fields = dataclasses.fields(Row)
    assert tuple(f.name for f in fields) == columns.JSONL_COLUMNS
    hints = {f.name: str(f.type) for f in fields}
    for column in columns.ROW_COLUMNS:
        expected = "Status" if column.name == "status" else ROW_TYPES[column.kind]
        assert hints[column.name] == expected, column.name


def test_the_pinned_columns_come_first_and_objects_stay_out_of_tables() -> None:
    assert columns.JSONL_COLUMNS[:19] == (
        "file", "status", "side", "name", "sex", "nation", "birth_date", "address",
        "id_number", "authority", "valid_from", "valid_to", "invalid_fields", "order_no",
        "portrait_url", "error_code", "error_message", "attempts", "sha256",
    )
    assert set(columns.JSONL_ONLY_COLUMNS) == {"validity", "confidence"}
    kept = [c for c in columns.JSONL_COLUMNS if c not in {"validity", "confidence"}]
    assert list(columns.CSV_COLUMNS) == kept


def test_a_card_records_the_tables_card_columns() -> None:
    card = PairedCard("k", "front_only", None, None, ())
    assert tuple(card.to_dict()) == columns.PAIR_COLUMNS
    assert columns.PAIRED_TABLE_COLUMNS[: len(columns.PAIR_COLUMNS)] == columns.PAIR_COLUMNS
    assert columns.CARD_FIELDS == columns.FRONT_FIELDS + columns.BACK_FIELDS
    assert set(columns.CARD_FIELDS) <= set(columns.JSONL_COLUMNS)


def test_a_column_means_one_thing_in_both_tables() -> None:
    rows = {c.name: c.kind for c in columns.ROW_COLUMNS}
    cards = {c.name: c.kind for c in columns.PAIRED_TABLE}
    assert {name: rows[name] for name in rows.keys() & cards.keys()} == {
        name: cards[name] for name in rows.keys() & cards.keys()}
    assert columns.kind_of("checks") is Kind.LIST and columns.kind_of("front_file") is Kind.TEXT
    assert columns.kind_of("added_by_hand") is Kind.TEXT


def test_the_writers_format_by_the_table() -> None:
    assert set(EXCEL_TEXT_COLUMNS) == {"id_number", "order_no"}
    assert set(NUMBER_COLUMNS) == {"attempts"}
    assert columns.columns_of_kind(Kind.DATE) == {"birth_date", "valid_from", "valid_to"}


def test_every_provider_key_names_columns_of_the_table() -> None:
    for key, names in columns.PROVIDER_KEY_COLUMNS.items():
        assert set(names) <= set(columns.CARD_FIELDS), key
    assert columns.columns_of("timelimit") == ("valid_from", "valid_to")
    assert columns.columns_of("unknown") == ("unknown",)


def test_kinds_are_the_docstrings() -> None:
    doc = typing.cast(str, columns.__doc__)
    for kind in Kind:
        assert f"``{kind.value}``" in doc, kind
