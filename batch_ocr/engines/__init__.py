"""Recognition engines: the paid API, or the offline engine (``local`` extra).

The pipeline, writers, checks, pairing and state do not care which one ran: both give
an ``EngineResult`` holding the provider-shaped ``CardData``.
"""

from __future__ import annotations

from batch_ocr.engines.base import Engine, EngineResult
from batch_ocr.settings import Settings

ENGINE_NAMES = ("api", "local", "auto")


def resolve_engine_name(settings: Settings) -> str:
    """``auto`` means the API when credentials are configured, else the local engine.

    Half a credential pair counts as configured: the user meant the API, and is better
    told which half is missing than silently switched to the local engine.
    """
    if settings.engine != "auto":
        return settings.engine
    return "api" if settings.secret_id or settings.secret_key else "local"


__all__ = ["ENGINE_NAMES", "Engine", "EngineResult", "resolve_engine_name"]
