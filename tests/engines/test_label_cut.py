"""Cutting a label glued to its value at the gap between them, under a shadow too."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from batch_ocr.engines.local._reading import _split_labels  # noqa: E402


def _line_with_shadow() -> tuple[object, object]:
    """A rectified card (856 px wide) whose name line reads ``姓名`` then a gap then a
    name of three characters a few pixels apart, the value starting a little left of
    where cards print it (an outline a little off); a shadow darkens the card's left."""
    card = np.full((540, 856, 3), 235, np.uint8)
    shade = np.linspace(0.55, 1.0, 856)[None, :, None]
    ink_columns = [(40, 62), (70, 92),  # 姓名, the label
                   (133, 158), (164, 189), (195, 220)]  # the name's three characters
    for left, right in ink_columns:
        card[50:95, left:right] = 40
    card = (card * shade).astype(np.uint8)
    box = np.array([[36, 44], [224, 44], [224, 100], [36, 100]], np.float32)
    return card, box


def test_the_cut_falls_in_the_gap_after_the_label_not_inside_the_name() -> None:
    card, box = _line_with_shadow()
    label, value = _split_labels(card, [box])
    cut = float(label[:, 0].max())
    assert 92 < cut < 133, cut
    assert float(value[:, 0].min()) == cut
