"""Masking for ``batch-ocr-report --mask``, when the output file itself is not masked.

The policy is the project's (``batch_ocr.run.present.masking``: name, ID number and address); this
module only applies it to rows read back as dicts, which may also be per-card rows of
a ``--pair`` run that have no ``Row`` dataclass. A run started with masking hands
``write_report`` rows that are masked already.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from batch_ocr.run.present.masking import mask_address, mask_id_number, mask_name

_MASKERS: Mapping[str, Callable[[str], str]] = {
    "name": mask_name,
    "id_number": mask_id_number,
    "address": mask_address,
}


def mask_row_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``row`` (JSONL shape or a card row) with its personal fields masked."""
    return {
        key: _MASKERS[key](value) if key in _MASKERS and isinstance(value, str) else value
        for key, value in row.items()
    }
