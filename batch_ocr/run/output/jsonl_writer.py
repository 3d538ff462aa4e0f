"""JSON Lines: one object per row, UTF-8, Chinese left readable (no ``\\uXXXX``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from batch_ocr.run.output.base import LineWriter


class JsonlWriter(LineWriter):
    """One compact JSON object per line, flushed after each."""

    def line(self, row: Mapping[str, Any]) -> str:
        record = {column: row.get(column) for column in self.columns}
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
