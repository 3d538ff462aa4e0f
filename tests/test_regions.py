"""The GB/T 2260 division names: which start of an address or an office's name they confirm."""

from __future__ import annotations

import pytest

from batch_ocr.regions import place_prefix


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("福建省厦门市思明区滨河北路792号", "福建省厦门市思明区"),
        ("北京市朝阳区建设大道399号", "北京市朝阳区"),  # a municipality: no city between
        ("内蒙古自治区呼和浩特市新城区长江路354号", "内蒙古自治区呼和浩特市新城区"),
        ("厦门市公安局思明分局", "厦门市"),  # an office names its city first
        ("宜章县公安局", "宜章县"),
        # A misread is no name: the chain stops before it.
        ("福建省夏门市思明区滨河北路792号", "福建省"),
        ("夏门市公安局思明分局", ""),
        # A district of another city is not inside the one read before it.
        ("福建省厦门市雁塔区文化路530号", "福建省厦门市"),
        ("入上海市公安局浦东分局", ""),
        ("", ""),
    ],
)  # fmt: skip
def test_the_start_naming_divisions_each_inside_the_one_before(text: str, places: str) -> None:
    assert place_prefix(text) == places
