"""The API engine on pages of several cards: one call per card, rows as offline."""

from __future__ import annotations

import base64
import io
import logging
import urllib.parse

import pytest
from PIL import Image

from batch_ocr.api_client import Recognition
from batch_ocr.engines import crops
from batch_ocr.engines.api import ApiEngine
from batch_ocr.imaging import prepare
from batch_ocr.models import CardData, CardInfo
from batch_ocr.settings import Settings
from tests.card_pages import font_available, make_samples, page_bytes, people

pytestmark = pytest.mark.skipif(not font_available(), reason="the card font is not installed")
needs_opencv = pytest.mark.skipif(not crops.available(), reason="OpenCV is not installed")


class FakeClient:
    """Answers each call with the next prepared answer; keeps the images it was sent."""

    def __init__(self, *answers: CardData) -> None:
        self.answers = list(answers)
        self.images: list[bytes] = []

    async def recognise(self, body: bytes) -> Recognition:
        uri = urllib.parse.parse_qs(body.decode())["image"][0]
        self.images.append(base64.b64decode(uri.partition(",")[2]))
        return Recognition(self.answers.pop(0), attempts=1)


FRONT = CardData(order_no="1", result=0, side="front", info=CardInfo(name="张三", number="1"),
                 validity={"name": True, "number": True})  # fmt: skip
BACK = CardData(order_no="2", result=0, side="back",
                info=CardInfo(authority="某市公安局", timelimit="20180727-20380727"),
                validity={"authority": True, "timelimit": True})  # fmt: skip
def _engine(client: FakeClient) -> ApiEngine:
    """The API engine with its HTTP client replaced by ``client`` (never started)."""
    engine = ApiEngine(Settings())
    engine._client = client  # type: ignore[assignment]
    return engine


NOT_A_CARD = CardData(order_no="3", result=0, side="front", info=CardInfo(),
                      validity={"name": False, "number": False})  # fmt: skip


def _copy_page() -> bytes:
    samples = make_samples()
    person = people(1)[0]
    page = samples.CardPage("copy", (samples.PageCard("front", person),
                                     samples.PageCard("back", person)))  # fmt: skip
    return page_bytes(page)


@needs_opencv
async def test_a_two_sided_page_costs_two_calls_each_a_straight_card() -> None:
    client = FakeClient(FRONT, BACK)
    engine = _engine(client)
    result = await engine.recognise(prepare(_copy_page()))
    assert len(client.images) == 2
    for sent in client.images:
        width, height = Image.open(io.BytesIO(sent)).size
        assert width > height  # each call is one card, landscape
    assert (result.data.side, result.attempts, result.cards) == ("both", 2, ())
    assert result.data.info.name == "张三" and result.data.info.authority == "某市公安局"
    assert result.data.order_no == "1;2"


@needs_opencv
async def test_a_bank_card_answered_as_no_card_adds_no_row() -> None:
    samples = make_samples()
    page = samples.CardPage("desk", (samples.PageCard("front", people(1)[0]),
                                     samples.PageCard("bank")),
                            columns=2, grey=False, stamps=False, desk=True)  # fmt: skip
    client = FakeClient(FRONT, NOT_A_CARD)
    result = await _engine(client).recognise(prepare(page_bytes(page)))
    assert (result.data.side, result.cards, result.attempts) == ("front", (), 2)


@needs_opencv
async def test_dry_run_counts_a_call_per_card() -> None:
    engine = ApiEngine(Settings())  # a dry run never starts its engine
    assert await engine.calls_for(prepare(_copy_page())) == 2
    single = io.BytesIO()
    make_samples().draw_front(people(1)[0])[0].save(single, "JPEG")
    assert await engine.calls_for(prepare(single.getvalue())) == 1


async def test_without_opencv_pages_are_sent_whole_and_the_run_says_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(crops, "available", lambda: False)
    monkeypatch.setattr(crops, "_warned", False)
    page = prepare(_copy_page())
    client = FakeClient(BACK, BACK)
    engine = _engine(client)
    with caplog.at_level(logging.WARNING, logger="batch_ocr"):
        first = await engine.recognise(page)
        await engine.recognise(page)
    assert client.images == [page.payload, page.payload]  # whole, one call each
    assert first.data.side == "back" and first.attempts == 1
    warnings = [r.getMessage() for r in caplog.records if "not split" in r.getMessage()]
    assert len(warnings) == 1
    assert await engine.calls_for(page) == 1


def test_only_images_big_enough_for_two_readable_cards_are_searched() -> None:
    from batch_ocr.engines import crops
    from batch_ocr.engines.local import _layout

    # One copy of the smallest readable card, so the two cannot drift apart.
    assert crops.MIN_CARD_LONG_SIDE_PX == _layout.MIN_CARD_LONG_SIDE_PX
    assert not crops.may_hold_several(120, 80)  # the benchmarks' tiny scans
    assert not crops.may_hold_several(300, 190)  # one small card, no room for two
    assert crops.may_hold_several(300, 400)  # two small cards one above the other
    assert crops.may_hold_several(2480, 3508)  # an A4 page at 300 dpi
