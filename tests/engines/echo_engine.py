"""A third engine, defined by the tests: one module, one registry line, one settings section.

It "recognises" every image as the front of one fictional card whose name starts with
the ``[echo]`` section's ``name_prefix``, and crops a portrait of its own, so a run
through it exercises everything the run does with an engine it does not know.

``PaidEchoEngine`` is the same as a billed provider would be: its price per call and
the failures a later run retries are its own (``[paid_echo]``), as with the API
engine, and nothing outside this module knows them.
"""

from __future__ import annotations

import hashlib
import io
from typing import ClassVar

from PIL import Image
from pydantic import BaseModel, ConfigDict, ValidationError

from batch_ocr.engines.base import Engine, EngineCounters, EngineResult
from batch_ocr.engines.registry import EngineOptions
from batch_ocr.errors import ClusterLostError, ConfigError, FileError
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.settings import Settings
from batch_ocr.vision.imaging import PreparedImage

#: The registry line a real engine would add to ``batch_ocr.engines.registry.ENGINES``.
REGISTRY_LINE = ("echo", "tests.engines.echo_engine:EchoEngine")
PAID_REGISTRY_LINE = ("paid_echo", "tests.engines.echo_engine:PaidEchoEngine")
#: The paid echo's failure that a later run tries again, and one it does not.
BUSY = "echo_busy"
REFUSED = "echo_refused"


class EchoSettings(BaseModel):
    """The ``[echo]`` section of the config file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name_prefix: str = "回声"
    #: Stop the run (a ``FatalRunError``) from this image on; 0 never.
    lose_cluster_after: int = 0


def _portrait_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 50), (200, 180, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


class EchoEngine(Engine):
    name = "echo"
    billed = False
    image_limits = None
    description = "the tests' echo engine"
    started: ClassVar[int] = 0
    closed: ClassVar[int] = 0

    def __init__(self, settings: EchoSettings) -> None:
        self.settings = settings
        self._runs = 0

    @classmethod
    def from_settings(cls, settings: Settings, options: EngineOptions) -> EchoEngine:
        try:
            section = EchoSettings.model_validate(settings.engine_tables.get("echo", {}))
        except ValidationError as exc:
            raise ConfigError(f"invalid [echo] section: {exc.errors()[0]['msg']}") from None
        return cls(section)

    async def start(self) -> None:
        EchoEngine.started += 1

    async def recognise(self, image: PreparedImage) -> EngineResult:
        self._runs += 1
        if 0 < self.settings.lose_cluster_after < self._runs:
            raise ClusterLostError("the echo cluster at tcp://127.0.0.1:1 went away")
        digest = hashlib.sha256(image.payload).hexdigest()
        info = CardInfo(name=f"{self.settings.name_prefix}{digest[:2]}", sex="男", nation="汉",
                        year="1990", month="10", day="9", address="江西省南昌市红谷滩区丰和中大道1001号",
                        number="360113199010099893")
        data = CardData(result=0, side="front", info=info,
                        validity=dict.fromkeys(("name", "sex", "number", "address"), True))
        return EngineResult(data, attempts=1, portrait_bytes=_portrait_jpeg())

    def counters(self) -> EngineCounters:
        return EngineCounters(calls=self._runs)

    async def aclose(self) -> None:
        EchoEngine.closed += 1


class PaidEchoSettings(EchoSettings):
    """The ``[paid_echo]`` section: the echo's keys, its price, and whether it is busy."""

    price_per_call: float = 0.0
    #: Square images fail with ``echo_busy`` (transient: a later run tries them again).
    busy: bool = False


class PaidEchoEngine(EchoEngine):
    """A billed echo: a portrait-shaped image is refused for good (``echo_refused``),
    a square one fails while the echo is busy (``echo_busy``, retried next run)."""

    name = "paid_echo"
    billed = True
    description = "the tests' billed echo engine"
    retried_next_run = frozenset({BUSY})

    def __init__(self, settings: PaidEchoSettings) -> None:
        super().__init__(settings)
        self.price_per_call_cny = settings.price_per_call
        self.busy = settings.busy

    @classmethod
    def from_settings(cls, settings: Settings, options: EngineOptions) -> PaidEchoEngine:
        try:
            section = PaidEchoSettings.model_validate(settings.engine_tables.get("paid_echo", {}))
        except ValidationError as exc:
            raise ConfigError(f"invalid [paid_echo] section: {exc.errors()[0]['msg']}") from None
        return cls(section)

    async def recognise(self, image: PreparedImage) -> EngineResult:
        if image.width < image.height:
            self._runs += 1
            error = FileError(REFUSED, "the echo refuses portrait-shaped images")
            error.attempts = 1
            raise error
        if image.width == image.height and self.busy:
            self._runs += 1
            error = FileError(BUSY, "the echo is busy, try again later")
            error.attempts = 1
            raise error
        return await super().recognise(image)
