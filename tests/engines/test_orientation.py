"""The upside-down vote: the widest lines first, stopping once the rest cannot overturn
it, with the answer the whole vote would give."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from batch_ocr.engines.local import _orientation  # noqa: E402


def _crop(width: int, flipped: bool) -> Any:
    # The fake classifier reads a crop's way up from its first pixel.
    crop = np.zeros((20, width, 3), np.uint8)
    crop[0, 0, 0] = 180 if flipped else 0
    return crop


def _classifier(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []

    def classify(crops: list[Any]) -> SimpleNamespace:
        seen.extend(crop.shape[1] for crop in crops)
        return SimpleNamespace(cls_res=[("180" if crop[0, 0, 0] == 180 else "0", 0.99)
                                        for crop in crops])  # fmt: skip

    classify.cls_batch_num = 2  # type: ignore[attr-defined]
    monkeypatch.setattr(_orientation, "models", lambda: SimpleNamespace(cls=classify))
    return seen


def test_short_lines_that_could_not_overturn_the_vote_are_not_classified(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    seen = _classifier(monkeypatch)
    crops = [_crop(40, True), _crop(400, False), _crop(40, True), _crop(360, False)]
    assert not _orientation.upside_down(crops)
    assert seen == [400, 360]  # 38 of upright lead against 4 left to classify


def test_short_lines_that_could_overturn_it_are_classified(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    seen = _classifier(monkeypatch)
    crops = [_crop(300, True), _crop(400, False), _crop(300, True), _crop(200, True)]
    # After the widest two, 20 upright against 15: the 25 left could overturn it, and do.
    assert _orientation.upside_down(crops)
    assert sorted(seen) == [200, 300, 300, 400]
    assert not _orientation.upside_down([])
