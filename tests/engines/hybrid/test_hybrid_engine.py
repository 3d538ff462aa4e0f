"""The hybrid engine: what it pays for, what each row says, and what it never pays twice."""

from __future__ import annotations

import functools
import io

import pytest
from PIL import Image

from batch_ocr.engines.base import EngineResult
from batch_ocr.engines.hybrid.engine import HybridEngine
from batch_ocr.engines.local import LocalEngineError
from batch_ocr.errors import ApiError, FatalRunError, QuotaExceededError
from batch_ocr.run.cards import CardFailure, CardRead, assemble
from batch_ocr.vision import crops
from batch_ocr.vision.imaging import PreparedImage, prepare
from tests.card_pages import make_samples, page_bytes, people
from tests.engines.hybrid.cards import AS_OF, BACK, FRONT, SURE, front
from tests.engines.hybrid.fakes import FakeClient, MemoryKeeper, ScriptedOffline, api_engine

needs_page = pytest.mark.skipif(not crops.available(), reason="OpenCV is not installed")


def _photo() -> PreparedImage:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 190, 180)).save(buffer, "JPEG")
    return prepare(buffer.getvalue(), None)


def _hybrid(offline: ScriptedOffline, client: FakeClient,
            keeper: MemoryKeeper | None = None) -> HybridEngine:
    engine = HybridEngine(offline, api_engine(client), today=lambda: AS_OF)
    engine.keep_answers_in(keeper or MemoryKeeper())
    return engine


def _single(data=FRONT, confidence=SURE) -> EngineResult:  # type: ignore[no-untyped-def]
    return EngineResult(data, 1, confidence=confidence, warnings=())


def _rows(result: EngineResult) -> list[CardRead]:
    return [card for card in result.cards if isinstance(card, CardRead)]


async def test_a_card_the_offline_engine_vouches_for_costs_nothing() -> None:
    client = FakeClient()
    engine = _hybrid(ScriptedOffline(_single()), client)
    result = await engine.recognise(_photo())
    assert client.calls == 0
    [row] = _rows(result)
    assert (row.data, row.engine, row.escalated_for) == (FRONT, "local", ())
    counters = engine.counters()
    assert (counters.calls, counters.cards_read_offline, counters.cards_escalated) == (0, 1, 0)


async def test_a_doubted_card_is_the_api_s_answer_and_says_why() -> None:
    client = FakeClient(FRONT)
    keeper = MemoryKeeper()
    engine = _hybrid(ScriptedOffline(_single(front(name="张王"), {**SURE, "name": 0.4})),
                     client, keeper)
    image = _photo()
    result = await engine.recognise(image)
    assert client.images == [image.payload]  # the API's payload: this JPEG as it is
    [row] = _rows(result)
    assert (row.data, row.engine) == (FRONT, "api")
    assert row.escalated_for == ("low_confidence:name",)
    assert row.disagree == ("name",)  # the offline engine read it otherwise
    # Kept before it is used: a kill now costs nothing the next time.
    assert list(keeper.kept) == list(result.kept_answers) and len(keeper.kept) == 1
    counters = engine.counters()
    assert (counters.calls, counters.cards_read_offline, counters.cards_escalated) == (1, 0, 1)


async def test_an_answer_kept_by_an_earlier_try_is_not_paid_again() -> None:
    keeper = MemoryKeeper()
    doubted = _single(front(name=""))
    await _hybrid(ScriptedOffline(doubted), FakeClient(FRONT), keeper).recognise(_photo())
    again = FakeClient()
    engine = _hybrid(ScriptedOffline(doubted), again, keeper)
    assert await engine.calls_for(_photo()) == 0
    [row] = _rows(await engine.recognise(_photo()))
    assert (again.calls, row.data, row.engine) == (0, FRONT, "api")
    assert engine.counters().answers_reused == 1


async def test_a_dry_run_reads_offline_and_counts_the_calls_it_would_pay() -> None:
    client = FakeClient()
    offline = ScriptedOffline(_single(front(name="")))
    engine = HybridEngine(offline, api_engine(client), dry_run=True, today=lambda: AS_OF)
    engine.keep_answers_in(MemoryKeeper())
    await engine.start()
    assert offline.started and engine.paid._session is None  # the API is never started
    assert await engine.calls_for(_photo()) == 1
    assert client.calls == 0 and len(offline.read) == 1
    assert (engine.counters().cards_escalated, engine.counters().cards_read_offline) == (1, 0)


async def test_a_picture_the_offline_engine_cannot_read_goes_to_the_api() -> None:
    client = FakeClient(FRONT)
    engine = _hybrid(ScriptedOffline(error=LocalEngineError("unreadable_image", "bad")), client)
    [row] = _rows(await engine.recognise(_photo()))
    assert (client.calls, row.engine, row.escalated_for, row.disagree) == (
        1, "api", ("status:error",), ())


async def test_a_worker_that_died_is_left_for_the_next_run_unpaid() -> None:
    died = LocalEngineError("local_worker_died", "a worker died")
    client = FakeClient()
    with pytest.raises(LocalEngineError) as raised:
        await _hybrid(ScriptedOffline(error=died), client).recognise(_photo())
    assert (client.calls, raised.value.engine) == (0, "local")


async def test_a_refusal_is_the_api_s_error_row_and_a_fatal_answer_stops() -> None:
    engine = _hybrid(ScriptedOffline(_single(front(name=""))),
                     FakeClient(ApiError("400", "参数错误")))
    with pytest.raises(ApiError) as raised:
        await engine.recognise(_photo())
    assert raised.value.engine == "api"
    engine = _hybrid(ScriptedOffline(_single(front(name=""))),
                     FakeClient(QuotaExceededError("quota")))
    with pytest.raises(FatalRunError):
        await engine.recognise(_photo())


@functools.cache
def _page() -> PreparedImage:
    samples = make_samples()
    person = people(1)[0]
    page = samples.CardPage("copy", (samples.PageCard("front", person),
                                     samples.PageCard("back", person)))  # fmt: skip
    return prepare(page_bytes(page), None)


def _page_reading(front_read: CardRead, back_read: CardRead) -> EngineResult:
    found = (front_read, back_read)
    rows = assemble(found)
    return EngineResult(rows[0].data, 1, cards=tuple(rows), warnings=(), found=found)


@needs_page
async def test_on_a_page_only_the_doubted_card_is_paid_for() -> None:
    client = FakeClient(FRONT)
    keeper = MemoryKeeper()
    back_sure = {"authority": 0.99, "valid_from": 0.99, "valid_to": 0.99}
    reading = _page_reading(CardRead(front(name=""), confidence=SURE),
                            CardRead(BACK, confidence=back_sure))
    engine = _hybrid(ScriptedOffline(reading), client, keeper)
    result = await engine.recognise(_page())
    paid_crops = await engine.paid.crops_of(prepare(_page().payload))
    assert client.images == [paid_crops[0].jpeg]  # the front's crop, the first card
    [row] = _rows(result)  # one front and one back: one row
    assert (row.data.side, row.engine, row.escalated_for) == ("both", "api", ("missing:name",))
    assert row.data.info.name == "张三" and row.data.info.authority == BACK.info.authority
    assert row.confidence == back_sure  # the front's is the API's: none
    counters = engine.counters()
    assert (counters.calls, counters.cards_read_offline, counters.cards_escalated) == (1, 1, 1)
    assert list(result.kept_answers) == list(keeper.kept)


@needs_page
async def test_a_card_whose_call_fails_keeps_the_others_answers_for_the_next_run() -> None:
    client = FakeClient(FRONT, ApiError("400", "参数错误"))
    keeper = MemoryKeeper()
    no_office = BACK.model_copy(update={"info": BACK.info.model_copy(update={"authority": ""})})
    reading = _page_reading(CardRead(front(name="")), CardRead(no_office))
    engine = _hybrid(ScriptedOffline(reading), client, keeper)
    result = await engine.recognise(_page())
    assert client.calls == 2 and result.kept_answers == () and len(keeper.kept) == 1
    first, failed = result.cards
    assert isinstance(first, CardRead) and isinstance(failed, CardFailure)
    assert (first.card, first.engine, failed.card, failed.error.engine) == (1, "api", 2, "api")


@needs_page
async def test_a_page_whose_cards_the_finders_do_not_agree_on_is_sent_whole() -> None:
    # The offline engine read the page whole (no cards found): its one row is doubted.
    client = FakeClient(FRONT, BACK)
    reading = EngineResult(front(name=""), 1, confidence=SURE, warnings=())
    engine = _hybrid(ScriptedOffline(reading), client)
    result = await engine.recognise(_page())
    assert client.calls == 2  # as the API engine sends it: a call per crop
    [row] = _rows(result)
    assert (row.data.side, row.engine, row.escalated_for) == ("both", "api", ("missing:name",))
    assert engine.counters().cards_escalated == 2
