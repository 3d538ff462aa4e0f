"""What a card side says, in the provider's ``info``/``validity`` shape."""

from __future__ import annotations

from dataclasses import dataclass, field

FRONT_VALIDITY_KEYS = ("name", "sex", "nation", "birthday", "address", "number")
BACK_VALIDITY_KEYS = ("authority", "timelimit")


@dataclass(slots=True)
class Parsed:
    """What the card says, in the provider's ``info``/``validity`` shape.

    ``confidence`` maps each ``info`` key to the engine's 0-1 confidence in it
    (``_confidence.field_confidence``); 0 for a field not found.
    """

    side: str  # "front", "back" or "none"
    info: dict[str, str] = field(default_factory=dict)
    validity: dict[str, bool] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
