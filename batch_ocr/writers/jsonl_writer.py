"""JSON Lines: one object per row, UTF-8, Chinese left readable (no ``\\uXXXX``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from batch_ocr.writers.base import Writer


class JsonlWriter(Writer):
    """One compact JSON object per line, flushed after each."""

    def write(self, row: Mapping[str, Any]) -> None:
        record = {column: row.get(column) for column in self.columns}
        self.stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        if self.flush_each_row:
            self.stream.flush()
