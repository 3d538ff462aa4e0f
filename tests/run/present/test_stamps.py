"""Stamps and watermarks of a copy never reach a field (docs/documents.md).

The lines below are what the offline engine's recogniser really read off stamped
copies (the accuracy harness's ``photocopy``, ``pages`` and ``stamped`` sets and the
dev set's photocopies), stamps lost or misread in part under the printed text.
"""

from __future__ import annotations

import pytest

from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.present.rows import row_from_card
from batch_ocr.run.present.stamps import (
    clean_field,
    clean_info,
    is_stamp,
    strip_stamps,
    strip_stamps_of_lines,
)
from tests.stamp_remnants import remnants


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("蒙古印无效", "蒙古"),  # the stamp's 复 lost under the nation: 古 is kept
        ("梁家崖村复印无效", "梁家崖村"),
        ("610304196902100928复印无效", "610304196902100928"),
        ("复印无郊", ""),  # 效 misread
        ("雙印无效", ""),  # 复 misread where the stamp's frame crosses it
        ("汉复.无效", "汉"),
        ("仅限BDCI比赛使用姓名倪雪婷", "姓名倪雪婷"),
        ("此复印件仅供办理银行开户使用", ""),
        ("仅限BDCI比", ""),  # cut short at the card's edge
        ("再次复印无效", ""),
        ("仅用于入职", ""),
        # Two of the four characters lost or misread.
        ("江西省南昌市红谷滩区中山路385号节无效", "江西省南昌市红谷滩区中山路385号"),  # 复 lost, 印 as 节
        ("天津市公安局南开分局无效", "天津市公安局南开分局"),  # 复印 lost
        ("2014.07.21-2024.0无效", "2014.07.21-2024.0"),
        ("段无效", ""),
        ("复段无效", ""),
        ("复锡无效", ""),
        ("北京市海淀区光明路611号复印発", "北京市海淀区光明路611号"),  # 无 lost, 效 as 発
        ("1953年7月27日复印无效", "1953年7月27日"),
        ("4单元3001室再次复印无效", "4单元3001室"),
        ("北京市朝阳区长江路205号再次复比", "北京市朝阳区长江路205号"),  # 印无效 misread or lost
        ("再次无", ""),
        # A watermark whose 仅 or whose start was lost.
        ("上海市浦东新区和平街408号26栋603室此复印供银行开户使用", "上海市浦东新区和平街408号26栋603室"),
        ("开户使用", ""),
        ("行开户使用", ""),
        ("验使用", ""),
        ("南昌市公安局红谷滩分局使", "南昌市公安局红谷滩分局"),
        # A stamp's pieces read as lines of their own.
        ("复", ""),
        ("效", ""),
        ("仅", ""),
        ("此复印件", ""),
        ("使用", ""),
    ],
)  # fmt: skip
def test_stamps_are_cut_out_of_a_line(line: str, kept: str) -> None:
    assert strip_stamps(line) == kept


@pytest.mark.parametrize(
    "line",
    ["北京市朝阳区建国路88号院3号楼", "公民身份号码", "签发机关", "2015.07.15-长期", "复兴路12号",
     "印刷厂宿舍", "有效期限", "无锡市公安局", "江苏省无锡市滨湖区复印社", "王效良", "李复",
     "印江土家族苗族自治县公安局", "湖南省长沙市芙蓉区供销社宿舍", "广州某某有限公司宿舍",
     "天使路3号", "中山路二段", "李使", "再次元路8号"],
)  # fmt: skip
def test_field_text_is_left_alone(line: str) -> None:
    assert strip_stamps(line) == line
    assert not is_stamp(line)


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        # A misread counts only as one of the stamp's look-alikes: a real character
        # before a stamp that lost its first characters is never taken.
        ("蒙古印无效", "蒙古"),
        ("梁家崖村复印无效", "梁家崖村"),
        ("锡伯印无效", "锡伯"),
        ("江西省南昌市东湖区胜利路12号无效", "江西省南昌市东湖区胜利路12号"),
        ("内蒙古自治区呼和浩特市新城区光明村印无效", "内蒙古自治区呼和浩特市新城区光明村"),
        ("银柯示克孜户使用", "银柯示克孜户"),  # 户 may end an address: kept
    ],
)  # fmt: skip
def test_a_partial_stamp_never_takes_a_field_character(line: str, kept: str) -> None:
    assert strip_stamps(line) == kept


@pytest.mark.parametrize(
    ("key", "value", "kept"),
    [
        ("authority", "复青岛市公安局市南分局", "青岛市公安局市南分局"),
        ("authority", "无拉萨市公安局城关分局", "拉萨市公安局城关分局"),
        ("authority", "印青岛市公安局市南分局", "青岛市公安局市南分局"),
        ("authority", "呼和浩特市公安局新城区分局复", "呼和浩特市公安局新城区分局"),
        ("authority", "无锡市公安局", "无锡市公安局"),  # 无锡 is a place
        ("authority", "印江土家族苗族自治县公安局", "印江土家族苗族自治县公安局"),
        ("address", "复广西壮族自治区南宁市青秀区东风路710号", "广西壮族自治区南宁市青秀区东风路710号"),
        ("address", "复兴路12号", "复兴路12号"),  # no province after it: left alone
        # What 复印无效 or 再次复印无效 left after an address's end.
        ("address", "广东省广州市天河区解放路502号14栋503室效", "广东省广州市天河区解放路502号14栋503室"),
        ("address", "内蒙古自治区呼和浩特市新城区和平街828号再次", "内蒙古自治区呼和浩特市新城区和平街828号"),
        ("address", "北京市海淀区中山路703号印无", "北京市海淀区中山路703号"),
        # Before the end, it is the address's own (印江, 复兴路): left alone.
        ("address", "贵州省铜仁市印江土家族苗族自治县复兴路1号", "贵州省铜仁市印江土家族苗族自治县复兴路1号"),
        ("nation", "复", ""),
        ("nation", "无效", ""),
        ("nation", "汉效", "汉"),
        ("nation", "蒙古印无效", "蒙古"),
        ("name", "诸葛志洋", "诸葛志洋"),
    ],
)  # fmt: skip
def test_fields_lose_what_a_stamp_leaves_at_their_edges(key: str, value: str, kept: str) -> None:
    assert clean_field(key, value) == kept


def test_an_api_answer_carrying_stamp_text_gives_clean_fields() -> None:
    """The API reads stamped copies too: its answer's fields are cleaned into the row."""
    data = CardData(result=0, side="front", validity={"name": True, "address": True},
                    info=CardInfo(name="倪雪婷", sex="女", nation="蒙古印无效", year="1969",
                                  month="2", day="10", address="陕西省宝鸡市陈仓区钓渭镇梁家崖村复印无效",
                                  number="610304196902100928"))  # fmt: skip
    row = row_from_card("a.jpg", data, attempts=1, sha256="")
    assert (row.name, row.nation, row.address) == ("倪雪婷", "蒙古", "陕西省宝鸡市陈仓区钓渭镇梁家崖村")
    back = CardData(result=0, side="back", validity={"authority": True},
                    info=CardInfo(authority="仅供银行开户使用宝鸡市陈仓区公安局无效",
                                  timelimit="20150715-长期"))  # fmt: skip
    row = row_from_card("b.jpg", back, attempts=1, sha256="")
    assert (row.authority, row.valid_from, row.valid_to) == ("宝鸡市陈仓区公安局", "2015-07-15", "长期")


def test_clean_fields_are_the_same_object() -> None:
    info = CardInfo(name="倪雪婷", nation="汉", address="陕西省宝鸡市陈仓区钓渭镇梁家崖村")
    assert clean_info(info) is info


@pytest.mark.parametrize(
    ("truth", "read", "found"),
    [
        ("江西省南昌市红谷滩区中山路385号", "江西省南昌市红谷滩区中山路385号节无效", ["节无效"]),
        ("胡红佳", "胡红佳复", ["复"]),
        ("汉", "汉", []),
        ("江苏省无锡市复兴路1号", "江苏省无锡市复兴路1号", []),  # the truth's own 无 and 复
        ("天津市南开区光明路596号", "天津市南开区光明路596号行开户", []),  # 开户: not ours...
    ],
)  # fmt: skip
def test_the_remnant_counter_sees_what_a_stamp_left(truth: str, read: str,
                                                   found: list[str]) -> None:  # fmt: skip
    assert remnants(truth, read) == found


def test_the_remnant_counter_sees_a_watermark_s_own_words() -> None:
    assert remnants("天津市南开区光明路596号", "天津市南开区光明路596号行开户",
                    ("仅供银行开户使用",)) == ["行开户"]  # fmt: skip


def test_no_true_field_loses_a_character() -> None:
    """Every field of 1,000 generated people, every nation and every truth of the
    published specimens and dev documents beside the project comes through whole."""
    import json
    import random

    from batch_ocr import id_rules
    from tests.card_pages import REPO, make_samples

    samples = make_samples()
    rng = random.Random(13)
    fields = [("nation", nation) for nation in id_rules.NATIONS]
    for i in range(1000):
        person = samples.make_person(rng, long_address=i % 3 == 0, dotted_name=i % 5 == 0)
        fields += [("name", person.name), ("nation", person.nation),
                   ("address", person.address), ("authority", person.authority)]  # fmt: skip
    for sidecar in sorted((REPO.parent / "shared").glob("*/*.json")):
        truth = json.loads(sidecar.read_text(encoding="utf-8")).get("truth", {})
        fields += [(key, value) for key, value in truth.items() if key in
                   ("name", "nation", "address", "authority")]  # fmt: skip
    changed = [(key, value) for key, value in fields
               if clean_field(key, value) != value or strip_stamps(value) != value]  # fmt: skip
    assert changed == []


def test_a_stamp_split_across_two_lines_is_cut_from_both() -> None:
    """The detector split 复印无效 after 复, which it read at the end of an address line."""
    lines = ["广西壮族自治区南宁市青秀区复", "印无效", "东风路710号22栋503室"]
    assert strip_stamps_of_lines(lines) == ["广西壮族自治区南宁市青秀区", "", "东风路710号22栋503室"]
    assert strip_stamps_of_lines(["复印", "无效"]) == ["", ""]


def test_a_line_ending_as_a_stamp_starts_keeps_it_without_the_rest() -> None:
    lines = ["广西壮族自治区南宁市青秀区复", "兴路710号"]  # 复兴路, wrapped
    assert strip_stamps_of_lines(lines) == lines
