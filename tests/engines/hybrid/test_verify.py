"""``--engine api --verify``: the API's every answer, with the offline reading beside it."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from batch_ocr.engines.base import EngineResult
from batch_ocr.engines.hybrid.verify import VerifiedApiEngine
from batch_ocr.engines.local import LocalEngineError
from batch_ocr.errors import ApiError
from batch_ocr.run.cards import CardRead
from batch_ocr.vision.imaging import PreparedImage, prepare
from tests.engines.hybrid.cards import FRONT, SURE, front
from tests.engines.hybrid.fakes import FakeClient, MemoryKeeper, ScriptedOffline, api_engine


def _photo(size: tuple[int, int] = (320, 200)) -> PreparedImage:
    """A card-like picture: light, with dark lines of print (a uniform one is a blank,
    which no engine is handed)."""
    image = Image.new("RGB", size, (200, 190, 180))
    draw = ImageDraw.Draw(image)
    width, height = size
    for row in range(1, 6):
        y = row * height // 7
        draw.rectangle((width // 10, y, width * 6 // 10, y + max(2, height // 40)), fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return prepare(buffer.getvalue(), None)


def _verified(offline: ScriptedOffline, client: FakeClient) -> VerifiedApiEngine:
    engine = VerifiedApiEngine(offline, api_engine(client))
    engine.keep_answers_in(MemoryKeeper())
    return engine


async def test_every_card_is_paid_for_and_a_field_read_otherwise_is_named() -> None:
    client = FakeClient(FRONT)
    offline = ScriptedOffline(EngineResult(front(name="张王"), 1, confidence=SURE, warnings=()))
    engine = _verified(offline, client)
    image = _photo()
    result = await engine.recognise(image)
    assert client.images == [image.payload] and offline.read == [image.payload]
    [row] = [card for card in result.cards if isinstance(card, CardRead)]
    assert (row.data, row.disagree, row.escalated_for, row.engine) == (FRONT, ("name",), (), "")
    assert engine.name == "api" and engine.counters().calls == 1


async def test_when_both_agree_nothing_is_said() -> None:
    engine = _verified(ScriptedOffline(EngineResult(FRONT, 1, warnings=())), FakeClient(FRONT))
    [row] = (await engine.recognise(_photo())).cards
    assert isinstance(row, CardRead) and row.disagree == ()


async def test_an_offline_failure_leaves_the_api_s_rows_as_they_are() -> None:
    offline = ScriptedOffline(error=LocalEngineError("unreadable_image", "bad"))
    [row] = (await _verified(offline, FakeClient(FRONT)).recognise(_photo())).cards
    assert isinstance(row, CardRead) and (row.data, row.disagree) == (FRONT, ())


async def test_the_api_s_failure_is_the_row_s() -> None:
    engine = _verified(ScriptedOffline(EngineResult(FRONT, 1, warnings=())),
                       FakeClient(ApiError("400", "参数错误")))
    with pytest.raises(ApiError):
        await engine.recognise(_photo())


async def test_the_api_is_sent_its_own_payload_fitted_to_its_limits() -> None:
    client = FakeClient(FRONT)
    engine = _verified(ScriptedOffline(EngineResult(FRONT, 1, warnings=())), client)
    big = _photo((5000, 3000))  # over the API's 4096 px: the offline engine reads it whole
    result = await engine.recognise(big)
    assert result.fitted and client.images[0] != big.payload
    assert max(Image.open(io.BytesIO(client.images[0])).size) <= 4096
    assert await engine.calls_for(big) == 1
