"""The API engine on pages of several cards: one call per card, rows as offline."""

from __future__ import annotations

import functools
import io
import logging
import random
import sys
from pathlib import Path

import pytest
from PIL import Image

from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.errors import ApiError, QuotaExceededError
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.cards import CardFailure, CardRead
from batch_ocr.run.journal.state import Journal
from batch_ocr.run.pipeline import BatchRun, RunOptions
from batch_ocr.run.present.rows import Row
from batch_ocr.run.summary import exit_status
from batch_ocr.settings import Settings
from batch_ocr.vision import crops
from batch_ocr.vision.imaging import prepare
from tests.card_pages import make_samples, page_bytes, people
from tests.engines.fake_api import FakeClient, MemoryKeeper, api_engine

needs_opencv = pytest.mark.skipif(not crops.available(), reason="OpenCV is not installed")


FRONT = CardData(order_no="1", result=0, side="front", info=CardInfo(name="张三", number="1"),
                 validity={"name": True, "number": True})  # fmt: skip
BACK = CardData(order_no="2", result=0, side="back",
                info=CardInfo(authority="某市公安局", timelimit="20180727-20380727"),
                validity={"authority": True, "timelimit": True})  # fmt: skip
NOT_A_CARD = CardData(order_no="3", result=0, side="front", info=CardInfo(),
                      validity={"name": False, "number": False})  # fmt: skip


@functools.cache
def _copy_page() -> bytes:
    samples = make_samples()
    person = people(1)[0]
    page = samples.CardPage("copy", (samples.PageCard("front", person),
                                     samples.PageCard("back", person)))  # fmt: skip
    return page_bytes(page)


@needs_opencv
async def test_a_two_sided_page_costs_two_calls_each_a_straight_card() -> None:
    client = FakeClient(FRONT, BACK)
    engine = api_engine(client)
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
    result = await api_engine(client).recognise(prepare(page_bytes(page)))
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
    engine = api_engine(client)
    with caplog.at_level(logging.WARNING, logger="batch_ocr"):
        first = await engine.recognise(page)
        await engine.recognise(page)
    assert client.images == [page.payload, page.payload]  # whole, one call each
    assert first.data.side == "back" and first.attempts == 1
    warnings = [r.getMessage() for r in caplog.records if "not split" in r.getMessage()]
    assert len(warnings) == 1
    assert await engine.calls_for(page) == 1


def test_only_images_big_enough_for_two_readable_cards_are_searched() -> None:
    from batch_ocr.vision import crops
    assert not crops.may_hold_several(120, 80)  # the benchmarks' tiny scans
    assert not crops.may_hold_several(300, 190)  # one small card, no room for two
    assert crops.may_hold_several(300, 400)  # two small cards one above the other
    assert crops.may_hold_several(2480, 3508)  # an A4 page at 300 dpi


def _noise_jpeg(width: int = 1000, height: int = 1000) -> bytes:
    """Random noise, as the CPU-per-MB benchmark sends (tests/benchmarks/images.py)."""
    import numpy as np

    pixels = np.random.default_rng(3).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@needs_opencv
@pytest.mark.parametrize("encoding", ["jpeg60", pytest.param("jpeg95", marks=pytest.mark.slow)])
async def test_a_copy_scanned_to_jpeg_is_cut_in_two_after_its_noise_check(encoding: str) -> None:
    from tests.card_pages import encode_page

    samples = make_samples()
    person = people(1)[0]
    page = samples.CardPage("copy", (samples.PageCard("front", person),
                                     samples.PageCard("back", person)))  # fmt: skip
    scan = prepare(encode_page(samples.draw_card_page(page, random.Random(1)), encoding))
    assert scan.preview is not None  # the search first looks at the small decode
    client = FakeClient(FRONT, BACK)
    result = await api_engine(client).recognise(scan)
    assert len(client.images) == 2 and result.data.side == "both"
    assert await ApiEngine(Settings()).calls_for(scan) == 2


@needs_opencv
async def test_a_noise_picture_is_sent_whole_without_a_card_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from batch_ocr.vision import layout as _layout

    def no_search(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("the card search ran on noise")

    monkeypatch.setattr(_layout, "find_cards", no_search)
    noise = prepare(_noise_jpeg())
    client = FakeClient(NOT_A_CARD)
    result = await api_engine(client).recognise(noise)
    assert client.images == [noise.payload] and result.attempts == 1
    assert await ApiEngine(Settings()).calls_for(noise) == 1


@needs_opencv
async def test_two_cards_on_a_background_of_noise_are_still_cut_out() -> None:
    # The noise check looks for any patch a card could be in: cards are such patches.
    samples = make_samples()
    person = people(1)[0]
    background = Image.open(io.BytesIO(_noise_jpeg(1400, 1800))).convert("RGB")
    background.paste(samples.draw_front(person)[0], (270, 200))
    background.paste(samples.draw_back(person).convert("RGB"), (270, 1000))
    buffer = io.BytesIO()
    background.save(buffer, "JPEG", quality=90)
    client = FakeClient(FRONT, BACK)
    result = await api_engine(client).recognise(prepare(buffer.getvalue()))
    assert len(client.images) == 2 and result.data.side == "both"


@needs_opencv
async def test_a_card_that_fails_is_a_row_of_its_own_and_the_answer_before_it_is_kept() -> None:
    events: list[str] = []
    keeper = MemoryKeeper(events)
    page = prepare(_copy_page())
    client = FakeClient(FRONT, ApiError("500", "internal error"), events=events)
    result = await api_engine(client, keeper).recognise(page)
    assert events == ["call 1", "keep front", "call 2"]  # kept before the next call
    first, second = result.cards
    assert isinstance(first, CardRead) and isinstance(second, CardFailure)
    assert (first.card, first.data.side, first.data.info.name) == (1, "front", "张三")
    assert (second.card, second.error.error_code) == (2, "500")
    assert result.kept_answers == ()  # nothing may go before the page is whole
    assert await ApiEngine(Settings()).calls_for(page) == 2
    dry = ApiEngine(Settings())
    dry.keep_answers_in(keeper)
    assert await dry.calls_for(page) == 1  # only the card still due

    again = FakeClient(BACK)
    result = await api_engine(again, keeper).recognise(page)
    assert len(again.images) == 1 and again.images[0] == client.images[1]  # the back only
    assert (result.data.side, result.cards, result.attempts) == ("both", (), 2)
    assert result.data.info.name == "张三" and result.data.info.authority == "某市公安局"
    assert len(result.kept_answers) == 2 and set(result.kept_answers) == set(keeper.kept)


@needs_opencv
async def test_a_fatal_error_between_two_cards_keeps_the_first_answer() -> None:
    keeper = MemoryKeeper([])
    client = FakeClient(FRONT, QuotaExceededError("API quota exceeded"))
    with pytest.raises(QuotaExceededError):
        await api_engine(client, keeper).recognise(prepare(_copy_page()))
    assert [a.data.side for a in keeper.kept.values()] == ["front"]


@needs_opencv
async def test_when_every_card_fails_each_has_its_numbered_row() -> None:
    client = FakeClient(ApiError("400", "bad"), ApiError("1001", "worse"))
    result = await api_engine(client, MemoryKeeper([])).recognise(prepare(_copy_page()))
    assert [(c.card, c.error.error_code) for c in result.cards
            if isinstance(c, CardFailure)] == [(1, "400"), (2, "1001")]  # fmt: skip


@needs_opencv
@pytest.mark.slow
def test_crops_are_the_same_bytes_in_another_process() -> None:
    """A card's identity is its crop's sha256: the next run must cut the same bytes."""
    import hashlib
    import subprocess
    import sys

    page = prepare(_copy_page())
    here = [hashlib.sha256(c.jpeg).hexdigest() for c in crops.card_crops(page.picture)]
    script = ("import hashlib, sys; from batch_ocr.vision import crops; "
              "from batch_ocr.vision.picture import Picture; "
              "print(*(hashlib.sha256(c.jpeg).hexdigest() "
              "for c in crops.card_crops(Picture(sys.stdin.buffer.read()))))")
    there = subprocess.run([sys.executable, "-c", script], input=page.payload,
                           capture_output=True, check=True, timeout=120).stdout.split()
    assert len(here) == 2 and [s.decode() for s in there] == here


@needs_opencv
@pytest.mark.slow  # three runs, each cutting the page's cards: 2-3 s on a busy machine
async def test_a_run_finishes_a_partly_failed_page_with_one_call(tmp_path: Path) -> None:
    """In-process, through ``BatchRun`` and its journal (the emulator's end-to-end runs
    are in ``tests/e2e/test_card_resume.py``)."""
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "copy.png").write_bytes(_copy_page())

    async def run(client: FakeClient, **options: bool) -> tuple[list[Row], BatchRun]:
        rows: list[Row] = []
        with Journal(tmp_path / "state.sqlite") as journal:
            batch = BatchRun(api_engine(client), [scans], rows.append, journal=journal,
                             options=RunOptions(**options))  # type: ignore[arg-type]
            await batch.run()
            rows_now = list(journal.rows())
        return rows_now, batch

    first = FakeClient(FRONT, ApiError("400", "refused"))
    rows, batch = await run(first)
    assert [(r.card, r.side, r.status, r.error_code) for r in rows] == [
        (1, "front", "ok", ""), (2, "", "error", "400")]
    assert exit_status(batch.summary()) == 1
    counted = FakeClient()
    _, batch = await run(counted, dry_run=True, retry_failed=True)
    assert (batch.summary().would_call, counted.images) == (1, [])
    second = FakeClient(BACK)
    rows, batch = await run(second, retry_failed=True)
    assert second.images == [first.images[1]]  # the back's crop, nothing else
    assert [(r.card, r.side, r.status) for r in rows] == [(None, "both", "ok")]
    assert (batch.summary().calls, batch.summary().answers_reused) == (1, 1)
    with Journal(tmp_path / "state.sqlite") as journal:
        assert not journal.holds_paid_answers("api")  # let go with the page's final row


def test_a_module_another_thread_is_still_importing_counts_as_installed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Mid-import, a module's ``__spec__`` is None and ``find_spec`` raises ValueError:
    a dry run cutting pages in several threads got ``internal_error`` rows."""
    import importlib.util
    import types

    half_imported = types.ModuleType("cv2")
    half_imported.__spec__ = None
    monkeypatch.setitem(sys.modules, "cv2", half_imported)
    with pytest.raises(ValueError):
        importlib.util.find_spec("cv2")
    assert crops._installed("cv2")


@needs_opencv
@pytest.mark.slow  # cuts the page's cards: 1-2 s on a busy machine
async def test_stamp_text_in_the_provider_s_answers_never_reaches_a_row(tmp_path: Path) -> None:
    """The provider reads a stamped copy's crops as they are: 复印无效 across the nation,
    仅供…使用 before the authority. The rows hold the fields without them."""
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "copy.png").write_bytes(_copy_page())
    front = CardData(order_no="1", result=0, side="front",
                     info=CardInfo(name="张三", nation="蒙古印无效", number="1",
                                   address="内蒙古自治区呼和浩特市新城区光明村复印无效"),
                     validity={"name": True, "nation": True, "number": True})  # fmt: skip
    back = CardData(order_no="2", result=0, side="back",
                    info=CardInfo(authority="仅供银行开户使用呼和浩特市公安局新城区分局节无效",
                                  timelimit="20180727-20380727"),
                    validity={"authority": True, "timelimit": True})  # fmt: skip
    rows: list[Row] = []
    await BatchRun(api_engine(FakeClient(front, back)), [scans], rows.append).run()
    assert [(r.side, r.nation, r.address, r.authority) for r in rows] == [
        ("both", "蒙古", "内蒙古自治区呼和浩特市新城区光明村", "呼和浩特市公安局新城区分局")]
