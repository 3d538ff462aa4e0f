"""The run attaches image warnings: the engine's own when it has them, else computed."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from batch_ocr.engines.base import Engine, EngineResult
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.pipeline import BatchRun
from batch_ocr.run.present.rows import Row
from batch_ocr.vision import image_warnings
from batch_ocr.vision.imaging import PreparedImage
from batch_ocr.vision.picture import Picture

cv2 = pytest.importorskip("cv2", reason="image warnings need the 'local' extra")

from tests import warning_cases  # noqa: E402


class FakeEngine(Engine):
    """Answers every image as the same front, with the warnings it is given."""

    name = "fake"

    def __init__(self, warnings: tuple[str, ...] | None, *, card: bool = True) -> None:
        self.warnings = warnings
        self.card = card

    async def recognise(self, image: PreparedImage) -> EngineResult:
        data = CardData(result=0, side="front", info=CardInfo(name="张三"),
                        validity={"name": self.card})  # fmt: skip
        return EngineResult(data, 1, None, warnings=self.warnings)


@pytest.fixture
def blurred_card(tmp_path: Path) -> Path:
    card = warning_cases.draw_card(random.Random(11), "front")
    folder = tmp_path / "scans"
    folder.mkdir()
    cv2.imwrite(str(folder / "card.jpg"), cv2.GaussianBlur(card, (0, 0), 5))
    return folder


async def _rows(folder: Path, engine: Engine) -> list[Row]:
    rows: list[Row] = []
    await BatchRun(engine, [folder], rows.append).run()
    return rows


async def test_warnings_are_computed_when_the_engine_gives_none(blurred_card: Path) -> None:
    (row,) = await _rows(blurred_card, FakeEngine(None))
    assert row.status == "ok" and row.warnings == ["blur"]


async def test_the_engines_own_warnings_are_used_as_they_are(
    blurred_card: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(picture: Picture) -> list[str]:
        raise AssertionError("computed twice")

    monkeypatch.setattr(image_warnings, "warnings_for", never)
    (row,) = await _rows(blurred_card, FakeEngine(("glare",)))
    assert row.warnings == ["glare"]


async def test_a_picture_that_is_no_card_gets_no_warning(blurred_card: Path) -> None:
    (row,) = await _rows(blurred_card, FakeEngine(None, card=False))
    assert row.status == "not_id_card" and row.warnings == []


class TwoCardEngine(FakeEngine):
    """Answers every image as two people's fronts (two rows), computing no warning."""

    async def recognise(self, image: PreparedImage) -> EngineResult:
        from batch_ocr.run.cards import CardRead

        reads = tuple(
            CardRead(CardData(result=0, side="front", info=CardInfo(name=name),
                              validity={"name": True}), card=number)  # fmt: skip
            for number, name in enumerate(("张三", "李四"), start=1)
        )
        return EngineResult(reads[0].data, 2, None, cards=reads)


async def test_a_picture_of_several_cards_is_measured_once_for_all_its_rows(
    blurred_card: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measured: list[Picture] = []
    real = image_warnings.warnings_for

    def counting(picture: Picture) -> list[str]:
        measured.append(picture)
        return real(picture)

    monkeypatch.setattr(image_warnings, "warnings_for", counting)
    rows = await _rows(blurred_card, TwoCardEngine(None))
    assert [(row.card, row.warnings) for row in rows] == [(1, ["blur"]), (2, ["blur"])]
    assert len(measured) == 1
