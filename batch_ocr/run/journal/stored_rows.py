"""A journal entry's rows as JSON: one row an object (what every earlier version wrote),
the rows of a page of several cards an array; keys of newer versions are dropped."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from batch_ocr.columns import invalid_columns
from batch_ocr.run.present.rows import Row

_ROW_FIELDS = frozenset(f.name for f in fields(Row))


def rows_from_json(text: str) -> list[Row]:
    """The rows of one entry: a JSON object for one row, an array for several cards."""
    stored: dict[str, Any] | list[dict[str, Any]] = json.loads(text)
    if isinstance(stored, list):
        return [_row(values) for values in stored]
    return [_row(stored)]


def _row(values: dict[str, Any]) -> Row:
    """A stored row as a ``Row``: keys of newer versions dropped, and ``invalid_fields``
    of earlier ones (the provider's names) as the columns they name."""
    row = Row(**{k: v for k, v in values.items() if k in _ROW_FIELDS})
    if row.invalid_fields:
        return dataclasses.replace(row, invalid_fields=invalid_columns(row.invalid_fields))
    return row


def rows_to_json(rows: Sequence[Row]) -> str:
    """One row as an object (what every earlier version wrote), several as an array."""
    records = [row.to_dict() for row in rows]
    return json.dumps(records[0] if len(records) == 1 else records, ensure_ascii=False)


def row_from_json(text: str) -> Row:
    """Rebuild a ``Row`` from its stored JSON (unknown keys from newer versions dropped)."""
    values: dict[str, Any] = json.loads(text)
    return _row(values)
