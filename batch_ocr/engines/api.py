"""The paid API as an engine: encode the form body, send it with retries."""

from __future__ import annotations

from batch_ocr.api_client import ApiClient
from batch_ocr.encoding import form_body
from batch_ocr.engines.base import Engine, EngineResult
from batch_ocr.imaging import PreparedImage


class ApiEngine(Engine):
    """Each ``recognise`` is one or more (billed) calls through ``ApiClient``."""

    name = "api"

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    async def recognise(self, image: PreparedImage) -> EngineResult:
        recognition = await self.client.recognise(form_body(image.mime, image.payload))
        return EngineResult(recognition.data, recognition.attempts)
