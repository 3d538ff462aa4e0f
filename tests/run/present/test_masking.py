"""Masked personal data: what each field keeps, and that mask_row leaves the rest alone."""

from __future__ import annotations

import dataclasses

import pytest

from batch_ocr.run.present import masking
from batch_ocr.run.present.rows import Row


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("440524188001010014", "440524********0014"),
        ("11010519491231002x", "110105********002x"),
        (" 11010519491231002X ", "110105********002X"),
        ("110105491231002", "110**********02"),  # 15 digits: 3 + 2 kept
        ("11010519491231002", "110************02"),  # 17 digits
        ("1101051949123100XXX", "110**************XX"),  # 19 characters
        ("123456", "1****6"),  # short: at most a third shown
        ("12345", "1****"),
        ("12", "**"),
        ("1", "*"),
        ("", ""),
    ],
)
def test_mask_id_number(number: str, masked: str) -> None:
    assert masking.mask_id_number(number) == masked


@pytest.mark.parametrize("length", range(1, 30))
def test_mask_id_number_never_shows_more_than_a_third_unless_18(length: int) -> None:
    number = "7" * length
    masked = masking.mask_id_number(number)
    assert len(masked) == length
    shown = length - masked.count("*")
    assert shown == 10 if length == 18 else shown <= length // 3


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小丽", "王*丽"),
        ("欧阳明明", "欧**明"),
        ("王五", "王*"),
        ("李", "*"),
        (" 王小丽 ", "王*丽"),
        ("阿依古丽·买买提", "阿******提"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert masking.mask_name(name) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("江西省南昌市红谷滩新区0号楼0单元0室", "江西省南昌市红谷滩新区****"),
        ("北京市朝阳区建国路1号", "北京市朝阳区****"),  # municipality
        ("上海市浦东新区张江镇", "上海市浦东新区****"),
        ("重庆市巫山县巫峡镇", "重庆市巫山县****"),
        ("江西省南昌县莲塘镇某某市场", "江西省南昌县****"),  # 市场 is no city
        ("山东省济南市市中区", "山东省济南市市中区****"),  # a district named 市中
        ("浙江省台州市路桥区路桥街道", "浙江省台州市路桥区****"),  # 路 leads a district name
        ("江苏省镇江市京口区", "江苏省镇江市京口区****"),  # 镇 leads a city name
        ("湖南省永州市道县", "湖南省永州市道县****"),
        ("河南省郑州市金水区", "河南省郑州市金水区****"),  # 州 inside a city name
        ("吉林省延边朝鲜族自治州延吉市", "吉林省延边朝鲜族自治州延吉市****"),  # county-level city
        (
            "新疆维吾尔自治区阿克苏地区库车市",
            "新疆维吾尔自治区阿克苏地区库车市****",
        ),
        (
            "内蒙古自治区锡林郭勒盟锡林浩特市",
            "内蒙古自治区锡林郭勒盟锡林浩特市****",
        ),
        (
            "内蒙古自治区呼伦贝尔市鄂温克族自治旗巴彦托海镇",
            "内蒙古自治区呼伦贝尔市鄂温克族自治旗****",
        ),
        ("海南省陵水黎族自治县椰林镇", "海南省陵水黎族自治县****"),
        # No district level: kept to the city, never into 社区 further on.
        ("广东省东莞市东城街道主山社区1号", "广东省东莞市****"),
        # No level at all: the first 6 characters, at most half the text.
        ("人民路幸福小区三栋二单元", "人民路幸福小****"),
        ("幸福里", "幸****"),
        ("", ""),
    ],
)
def test_mask_address(address: str, masked: str) -> None:
    assert masking.mask_address(address) == masked


ROW = Row(
    file="a.jpg",
    status="ok",
    side="front",
    name="王小丽",
    sex="女",
    nation="汉",
    birth_date="1949-12-31",
    address="北京市朝阳区建国路1号",
    id_number="11010519491231002X",
    invalid_fields=["address"],
    portrait_url="https://example.invalid/p.jpg",
    sha256="ab" * 32,
    validity={"address": False},
)


def test_mask_row_masks_the_three_named_fields_only() -> None:
    masked = masking.mask_row(ROW)
    assert (masked.name, masked.id_number, masked.address) == (
        "王*丽",
        "110105********002X",
        "北京市朝阳区****",
    )
    unchanged = {"name", "id_number", "address"}
    for field in dataclasses.fields(Row):
        if field.name not in unchanged:
            assert getattr(masked, field.name) == getattr(ROW, field.name), field.name


def test_mask_row_leaves_the_original_alone() -> None:
    masked = masking.mask_row(ROW)
    assert ROW.name == "王小丽"
    for field in dataclasses.fields(Row):
        value = getattr(masked, field.name)
        if isinstance(value, list | dict):
            assert value is not getattr(ROW, field.name), field.name
    masked.invalid_fields.append("name")
    masked.validity["name"] = False
    assert ROW.invalid_fields == ["address"]
    assert ROW.validity == {"address": False}


def test_mask_row_of_an_error_row_is_empty() -> None:
    row = Row(file="b.jpg", status="error", error_code="E1")
    assert masking.mask_row(row) == row
