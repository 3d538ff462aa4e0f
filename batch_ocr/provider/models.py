"""Typed models of the provider's answers (``API_CONTRACT.md``, "Response").

Every field is optional or defaulted: the provider, the gateway in front of it and the
network between them all send surprises, and a surprise must become a clear error,
never a crash. ``CardData`` is also what the offline engine produces, so rows are built
the same way whichever engine ran.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# defer_build: each model's validator is built at its first use, not at import: a
# run's start-up does not wait for it (tests/benchmarks, throughput).


class CardInfo(BaseModel):
    """The ``info`` object: front fields, back fields, or (for a non-card) whatever came."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    name: str | None = None
    sex: str | None = None
    nation: str | None = None
    year: str | None = None
    month: str | None = None
    day: str | None = None
    address: str | None = None
    number: str | None = None
    authority: str | None = None
    timelimit: str | None = None


class CardData(BaseModel):
    """The ``data`` object of a successful recognition."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    order_no: str | None = None
    result: int | None = None
    side: str | None = None
    info: CardInfo = Field(default_factory=CardInfo)
    validity: dict[str, bool] = Field(default_factory=dict)
    image_url: str | None = None


class ApiEnvelope(BaseModel):
    """The seller's envelope: ``{"msg", "success", "code", "data"}``."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    msg: str | None = None
    success: bool | None = None
    code: int | str | None = None
    data: Any = None


class GatewayMessage(BaseModel):
    """The gateway's refusal body: ``{"message": "..."}``."""

    model_config = ConfigDict(defer_build=True)

    message: str
