"""Find the source image of a row among the folders a run read from."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from batch_ocr.report.entries import text


def image_finder(folders: Sequence[Path]) -> Callable[[Mapping[str, Any]], Path | None]:
    """An ``image_for`` for ``write_report``: ``file`` looked up in ``folders`` in order.

    The ``file`` column is relative to the folder the run scanned; when a run read
    several folders, the first one that has the file wins. An absolute ``file`` is used
    as it is. Returns ``None`` when no folder has it.
    """
    roots = list(folders)

    def image_for(row: Mapping[str, Any]) -> Path | None:
        name = text(row.get("file"))
        if not name:
            return None
        path = Path(name)
        if path.is_absolute():
            return path if path.is_file() else None
        for root in roots:
            candidate = root / path
            if candidate.is_file():
                return candidate
        return None

    return image_for
