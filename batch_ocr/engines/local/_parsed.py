"""What a card side says, in the provider's ``info``/``validity`` shape."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from batch_ocr.engines.local._rows import Row

FRONT_VALIDITY_KEYS = ("name", "sex", "nation", "birthday", "address", "number")
BACK_VALIDITY_KEYS = ("authority", "timelimit")


@dataclass(slots=True)
class Parsed:
    """What the card says, in the provider's ``info``/``validity`` shape.

    ``confidence`` maps each ``info`` key to the recogniser's 0-1 confidence in the
    lines it was read from (the least sure line counts); 0 for a field not found.
    """

    side: str  # "front", "back" or "none"
    info: dict[str, str] = field(default_factory=dict)
    validity: dict[str, bool] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)


def _least(rows: Sequence[Row], indices: Sequence[int | None]) -> float:
    """The least recogniser confidence among the rows a field was read from (0: none)."""
    scores = [rows[i].score for i in indices if i is not None]
    return round(min(scores), 3) if scores else 0.0
