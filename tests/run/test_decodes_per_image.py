"""How many times a run decodes one image, counted where Pillow turns bytes into pixels.

Every decode goes through the image's ``Picture`` (``vision.picture``), which makes each
at most once and lets views of one JPEG scale share it. The counts below are whole
runs (``BatchRun``, in-process): the pre-flight check's decode (1/8 scale for a JPEG,
whole for a PNG), then whatever the engine and the image warnings need.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import io
import random
import threading
import traceback
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import ImageFile

from batch_ocr.engines.api.client import Recognition
from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.engines.base import Engine, EngineResult
from batch_ocr.engines.local._result import LocalRecognition
from batch_ocr.engines.local.executor import Executor
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.pipeline import BatchRun, RunOptions
from batch_ocr.run.present.rows import Row
from batch_ocr.settings import Settings
from batch_ocr.vision import crops
from batch_ocr.vision.imaging import PreparedImage
from batch_ocr.vision.picture import Picture
from tests.card_pages import encode_page, make_samples, people
from tests.skips import needs_local

pytestmark = pytest.mark.skipif(not crops.available(), reason="OpenCV is not installed")

FRONT = CardData(order_no="1", result=0, side="front", info=CardInfo(name="张三", number="1"),
                 validity={"name": True, "number": True})  # fmt: skip
BACK = CardData(order_no="2", result=0, side="back",
                info=CardInfo(authority="某市公安局", timelimit="20180727-20380727"),
                validity={"authority": True, "timelimit": True})  # fmt: skip


class Decodes:
    """Pillow's decodes (``ImageFile.load`` with data still to read), by the module of
    batch_ocr that asked for each."""

    def __init__(self) -> None:
        self.by_module: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(self.by_module.values())

    def record(self) -> None:
        ours = [frame.filename for frame in traceback.extract_stack()
                if f"{Path('batch_ocr')}" in frame.filename]
        module = "/".join(Path(ours[-1]).parts[-2:]) if ours else "elsewhere"
        with self._lock:
            self.by_module[module] += 1


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Decodes]:
    counted = Decodes()
    real_load = ImageFile.ImageFile.load

    def load(image: ImageFile.ImageFile) -> object:
        if image.tile:  # pixels still to decode (a loaded image returns at once)
            counted.record()
        return real_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    yield counted


class FakeClient:
    """Answers each call with the next answer; the HTTP client the API engine is given.

    Notes, at each call, whether any picture the run made held pixels then."""

    def __init__(self, *answers: CardData) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.retries = 0
        self.pictures: list[Picture] = []
        self.held_during_calls: list[bool] = []

    async def recognise(self, body: bytes) -> Recognition:
        uri = urllib.parse.parse_qs(body.decode())["image"][0]
        assert base64.b64decode(uri.partition(",")[2])
        self.calls += 1
        self.held_during_calls.append(any(p.holds_pixels() for p in self.pictures))
        return Recognition(self.answers.pop(0), attempts=1)


class WatchedApiEngine(ApiEngine):
    """The API engine with a fake HTTP client that sees the pictures it is given."""

    def __init__(self, *answers: CardData) -> None:
        super().__init__(Settings())
        self.fake = FakeClient(*answers)
        self._client = self.fake  # type: ignore[assignment]

    async def recognise(self, image: PreparedImage) -> EngineResult:
        self.fake.pictures.append(image.picture)
        if image.original is not None:  # the file's own, when the payload was fitted
            self.fake.pictures.append(image.original)
        return await super().recognise(image)


def _api(*answers: CardData) -> WatchedApiEngine:
    return WatchedApiEngine(*answers)


def _card_photo() -> bytes:
    """One card, as a phone crops it: 856 x 540 JPEG (big enough to be searched)."""
    buffer = io.BytesIO()
    make_samples().draw_front(people(1)[0])[0].convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _copy(encoding: str = "jpeg75", scale: float = 1.0) -> bytes:
    """A two-card A4 copy at 200 dpi (1654 x 2339), or ``scale`` times that."""
    samples = make_samples()
    person = people(1)[0]
    page = samples.CardPage("copy", (samples.PageCard("front", person),
                                     samples.PageCard("back", person)))  # fmt: skip
    image = samples.draw_card_page(page, random.Random(1))
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    return encode_page(image, encoding)


async def _run(tmp_path: Path, name: str, data: bytes, engine: Engine,
               dry_run: bool = False) -> list[Row]:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / name).write_bytes(data)
    rows: list[Row] = []
    await BatchRun(engine, [folder], rows.append, options=RunOptions(dry_run=dry_run)).run()
    return rows


async def test_a_card_photo_through_the_api_is_decoded_twice(
    tmp_path: Path, decodes: Decodes
) -> None:
    # The pre-flight check (1/8), then the card search at full scale, whose decode the
    # image warnings share (measured before the call, not decoded again after it).
    engine = _api(FRONT)
    (row,) = await _run(tmp_path, "card.jpg", _card_photo(), engine)
    assert row.status == "ok"
    assert (decodes.total, set(decodes.by_module)) == (2, {"vision/picture.py"})
    # No pixels are held while the call is out, nor once the row is made.
    assert engine.fake.held_during_calls == [False]
    assert not engine.fake.pictures[0].holds_pixels()


@pytest.mark.parametrize("encoding", ["jpeg75", "png"])
async def test_a_two_card_copy_through_the_api_is_decoded_twice(
    tmp_path: Path, decodes: Decodes, encoding: str
) -> None:
    # The search, the cut and the warnings share one decode at full scale.
    engine = _api(FRONT, BACK)
    rows = await _run(tmp_path, f"copy.{encoding[:4]}", _copy(encoding), engine)
    assert [(r.side, r.warnings) for r in rows] == [("both", ["copy"])]
    assert (decodes.total, set(decodes.by_module)) == (2, {"vision/picture.py"})
    assert engine.fake.held_during_calls == [False, False]


async def test_a_copy_at_300_dpi_decodes_the_warnings_scale_apart(
    tmp_path: Path, decodes: Decodes
) -> None:
    # At 2481 x 3508 the warnings' JPEG scale is 1/2 and the search's 1/1: three decodes,
    # the warnings' after the answer (only when a row asks for them).
    engine = _api(FRONT, BACK)
    rows = await _run(tmp_path, "copy.jpg", _copy("jpeg75", 1.5), engine)
    assert [(r.side, r.warnings) for r in rows] == [("both", ["copy"])]
    assert decodes.total == 3
    assert engine.fake.held_during_calls == [False, False]
    assert not engine.fake.pictures[0].holds_pixels()  # the warnings' decode let go


async def test_a_fitted_copy_is_decoded_again_only_to_cut_its_cards(
    tmp_path: Path, decodes: Decodes
) -> None:
    # A 300 dpi PNG over 1 MB: the pre-flight check's decode (which the fitting shares),
    # the fitted JPEG's for the search and the warnings, and the file's own again when
    # the cards are cut from it; none held while the calls are out.
    from tests.engines.api.test_full_resolution import scan_file

    engine = _api(FRONT, BACK)
    rows = await _run(tmp_path, "scan.png", scan_file("PNG"), engine)
    assert [(r.side, r.fitted) for r in rows] == [("both", True)]
    assert (decodes.total, set(decodes.by_module)) == (3, {"vision/picture.py"})
    assert len(engine.fake.pictures) == 2  # the fitted page and the file's own
    assert engine.fake.held_during_calls == [False, False]


async def test_a_dry_run_decodes_a_copy_twice(tmp_path: Path, decodes: Decodes) -> None:
    rows = await _run(tmp_path, "copy.jpg", _copy(), _api(), dry_run=True)
    assert rows == []
    assert decodes.total == 2


class InThisProcess(Executor):
    """The offline recogniser run in a thread here, so that its decodes are counted."""

    async def run(self, payload: bytes) -> LocalRecognition:
        from batch_ocr.engines.local import recognise

        return await asyncio.to_thread(recognise, payload)

    async def run_alone(self, payload: bytes) -> LocalRecognition:
        return await self.run(payload)

    async def aclose(self) -> None:
        return None


@needs_local
@pytest.mark.slow  # the OCR of a page: seconds
@pytest.mark.parametrize(("name", "make", "expected"),
                         [("card.jpg", _card_photo, 2), ("copy.jpg", _copy, 3)])
async def test_the_offline_engine_decodes_an_image_twice(
    tmp_path: Path, decodes: Decodes, name: str, make: object, expected: int
) -> None:
    # The pre-flight check here, the worker's decode there; a copy's warnings are
    # measured in the worker on that decode, not decoded again by the run. A JPEG of
    # 1,800 px or more (the copy) has its cards found first on a decode at a quarter
    # scale or less, which decides the scale it is read at (docs/offline-engine.md).
    from batch_ocr.engines.local.engine import LocalEngine

    engine = LocalEngine(InThisProcess())
    try:
        rows = await _run(tmp_path, name, make(), engine)  # type: ignore[operator]
    finally:
        await engine.aclose()
    assert rows and all(row.status == "ok" for row in rows)
    assert (decodes.total, set(decodes.by_module)) == (expected, {"vision/picture.py"})


def test_the_review_page_decodes_its_thumbnail_and_its_search_once_each(
    decodes: Decodes,
) -> None:
    from batch_ocr.report.page_views import view_of_image

    view = view_of_image(_copy(), masked=False)
    assert view.outlines is not None and len(view.outlines) == 2
    assert (decodes.total, set(decodes.by_module)) == (2, {"vision/picture.py"})


@pytest.mark.parametrize(("fmt", "limits"), [("PNG", "api"), ("WEBP", "api"), ("WEBP", None)])
def test_the_pre_flight_check_serves_the_re_encoding(
    decodes: Decodes, fmt: str, limits: str | None
) -> None:
    """A PNG too large for the API, or a WebP (always re-encoded: as a JPEG for the API,
    a PNG for the offline engine), is decoded once: the check's decode is the one the
    re-encoding needs (a JPEG's check is at 1/8 scale, so it is not)."""
    from PIL import Image

    from batch_ocr.vision import imaging

    buffer = io.BytesIO()
    Image.effect_mandelbrot((4100, 1200), (-2.0, -1.0, 1.0, 1.0), 60).convert("RGB").save(
        buffer, fmt)
    prepared = imaging.prepare(buffer.getvalue(), imaging.API_LIMITS if limits else None)
    assert prepared.fitted
    assert (decodes.total, set(decodes.by_module)) == (1, {"vision/picture.py"})
