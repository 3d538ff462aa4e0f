"""The small interface every engine offers the pipeline."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from batch_ocr.imaging import PreparedImage
from batch_ocr.models import CardData


@dataclass(frozen=True, slots=True)
class EngineResult:
    """What an engine read from one image."""

    data: CardData
    #: Calls (API) or runs (local) it took, the first included.
    attempts: int
    #: The portrait's bytes when the engine cropped it itself (local); the API gives a
    #: link in ``data.image_url`` instead.
    portrait_bytes: bytes | None = None


class Engine(ABC):
    """Recognises prepared images. Raises ``FileError`` for a per-file failure and
    ``FatalRunError`` when nothing more can succeed."""

    name: ClassVar[str]

    @abstractmethod
    async def recognise(self, image: PreparedImage) -> EngineResult:
        """Recognise one image."""

    async def aclose(self) -> None:  # noqa: B027 - engines without resources skip it
        """Release what the engine holds (worker processes)."""
