"""The GB/T 2260 division names: which start of an address or an office's name they confirm."""

from __future__ import annotations

import pytest

from batch_ocr.regions import divisions_cut, place_prefix


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


@pytest.mark.parametrize(
    ("address", "cut_short"),
    [
        # Read whole: a street, a building or a village follows the divisions.
        ("内蒙古自治区呼和浩特市新城区和平街248号", False),
        ("广东省深圳市南山区腾讯大厦", False),
        ("北京市东城区景山前街4号紫禁城敬事房", False),
        ("福建省龙岩市东城东宝路336号", False),  # 东城 is no district of 龙岩市
        ("上海市浦东新区新华街629号", False),
        # Its last line(s) lost: it stops with a district, or partway through its name.
        ("广西壮族自治区南宁市青秀区", True),
        ("内蒙古自治区呼和浩特市新城", True),
        ("北京市", True),
        ("", False),
        ("夏门市思明区", False),  # no division first: nothing is known of it
        # A district read without its first characters (天 of 天山区 washed out).
        ("新疆维吾尔自治区乌鲁木齐市山区2组幸福里494号", True),
        ("新疆维吾尔自治区乌鲁木齐市天山区2组幸福里494号", False),
    ],
)  # fmt: skip
def test_an_address_cut_among_its_divisions_has_lost_characters(
        address: str, cut_short: bool) -> None:  # fmt: skip
    assert divisions_cut(address) is cut_short
