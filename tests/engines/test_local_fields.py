"""Parsing and checks of the offline engine: strings in, provider fields out.

Pure Python: these run without the ``local`` extra.
"""

from __future__ import annotations

import dataclasses

import pytest

from batch_ocr import id_rules
from batch_ocr.engines.local import _checks as checks
from batch_ocr.engines.local._back import parse_back
from batch_ocr.engines.local._fields import parse
from batch_ocr.engines.local._front import anchor_address
from batch_ocr.engines.local._labels import after_label, strip_label
from batch_ocr.engines.local._rows import Row, TextLine, clean, group_rows


def rows(*texts: str) -> list[Row]:
    return [Row(clean(t), clean(t), 40.0 * i, 40.0 * i + 30, 0, 500) for i, t in enumerate(texts)]


def test_id_checksum_gb11643() -> None:
    assert id_rules.id_number_valid("11010519491231002X")
    assert id_rules.id_number_valid("440305199505132561")
    assert not id_rules.id_number_valid("440305199505132562")  # wrong check character
    assert not id_rules.id_number_valid("44030519950532256X")  # 32 May
    assert not id_rules.id_number_valid("4403051995051325")  # too short


@pytest.mark.parametrize(
    ("text", "label", "rest"),
    [
        ("姓名李小红", "姓名", "李小红"),
        ("名刘洋", "姓名", "刘洋"),  # first label character lost
        ("游名刘洋", "姓名", "刘洋"),  # first label character misread
        ("姓刘洋", "姓名", "刘洋"),  # second lost: 刘 must stay
        ("公民身份证号码11204416541220243X", "公民身份号码", "11204416541220243X"),
        ("李小红", "姓名", "李小红"),
    ],
)
def test_strip_label_tolerates_one_error(text: str, label: str, rest: str) -> None:
    assert strip_label(text, label)[0] == rest


def test_front_with_merged_labels_and_two_line_address() -> None:
    parsed = parse(
        rows(
            "姓名阿依古丽•买买提",
            "性别女民族维吾尔",
            "出生1988年12月1日",
            "住址新疆维吾尔自治区乌鲁木齐市",
            "天山区解放南路88号",
            "公民身份号码650102198812014244",
        )
    )
    assert parsed.side == "front"
    assert parsed.info == {
        "name": "阿依古丽·买买提",
        "sex": "女",
        "nation": "维吾尔",
        "year": "1988",
        "month": "12",
        "day": "1",
        "address": "新疆维吾尔自治区乌鲁木齐市天山区解放南路88号",
        "number": "650102198812014244",
    }
    assert all(parsed.validity.values()), parsed.validity


def test_front_with_separate_label_boxes_and_lookalike_digits() -> None:
    lines = [
        TextLine("姓名", 1, 60, 55, 120, 85),
        TextLine("韦小宝", 1, 150, 50, 260, 88),
        TextLine("性别", 1, 60, 120, 120, 150),
        TextLine("男", 1, 150, 116, 185, 152),
        TextLine("民族", 1, 262, 120, 320, 150),
        TextLine("漢", 1, 350, 116, 385, 152),  # traditional form from the recogniser
        TextLine("出生1954年5月3日", 1, 60, 182, 400, 214),
        TextLine("住址江苏省南京市鼓楼区人民路819号", 1, 60, 246, 560, 280),
        TextLine("公民身份号码", 1, 60, 446, 250, 474),
        TextLine("32010619540503278Z", 1, 262, 438, 760, 478),  # Z misread for 2
    ]
    parsed = parse(group_rows(lines))
    assert parsed.info["name"] == "韦小宝"
    assert parsed.info["nation"] == "汉"
    assert parsed.info["number"] == "320106195405032782"
    assert parsed.validity["number"] and parsed.validity["birthday"]


def test_invalid_number_is_reported_not_corrected() -> None:
    parsed = parse(rows("姓名韦小宝", "性别男民族汉", "出生1654年12月20日", "住址北京市东城区景山前街4号",
                        "公民身份证号码11204416541220243X"))  # fmt: skip
    assert parsed.info["number"] == "11204416541220243X"
    assert parsed.validity["number"] is False
    assert parsed.validity["name"] and parsed.validity["birthday"]


def test_back_fields_and_long_term() -> None:
    parsed = parse(rows("中华人民共和国", "居民身份证", "签发机关上海市公安局浦东分局",
                        "有效期限2015.03.01-长期"))  # fmt: skip
    assert parsed.side == "back"
    assert parsed.info == {"authority": "上海市公安局浦东分局", "timelimit": "20150301-长期"}
    assert parsed.validity == {"authority": True, "timelimit": True}


def test_back_wrapped_authority() -> None:
    parsed = parse(rows("签发机关乌鲁木齐市公安局", "天山区分局", "有效期限2016.05.12-2036.05.12"))
    assert parsed.info["authority"] == "乌鲁木齐市公安局天山区分局"
    assert parsed.info["timelimit"] == "20160512-20360512"


def test_back_with_unlikely_authority_is_flagged() -> None:
    parsed = parse(rows("签发机关上海市浦东", "有效期限2015.03.01-2010.03.01"))
    assert parsed.validity == {"authority": False, "timelimit": False}


def test_not_a_card() -> None:
    parsed = parse(rows("SALE 50%", "欢迎光临"))
    assert parsed.side == "none"
    assert not any(parsed.validity.values())


def test_clean_normalises_width_and_dots() -> None:
    assert clean("阿依古丽 ・ 买买提 １２３") == "阿依古丽·买买提123"


@pytest.mark.parametrize("nation", ["汉", "维吾尔", "柯尔克孜"])
def test_nation_list(nation: str) -> None:
    assert checks.nation_ok(nation)
    assert not checks.nation_ok(nation + "族族")


def test_confidence_starts_from_the_least_sure_line_and_weighs_the_checks() -> None:
    lines = [
        TextLine("姓名", 0.99, 60, 55, 120, 85),
        TextLine("韦小宝", 0.81, 150, 50, 260, 88),
        TextLine("性别女民族汉", 0.95, 60, 116, 385, 152),
        TextLine("出生1949年12月31日", 0.90, 60, 180, 400, 215),
        TextLine("住址北京市东城区景山前街4号", 0.93, 60, 245, 560, 280),
        TextLine("紫禁城敬事房", 0.62, 150, 287, 400, 322),
        TextLine("公民身份号码11010519491231002X", 0.98, 60, 440, 800, 480),
    ]
    parsed = parse(group_rows(lines, label_column_right=141))
    assert parsed.info["address"] == "北京市东城区景山前街4号紫禁城敬事房"
    assert parsed.confidence["name"] == 0.81  # the label's own score does not count
    assert parsed.confidence["address"] == 0.62
    # The checksummed number confirms itself (a tenth of the recogniser's doubt is left),
    # and the birth date and sex it encodes, read alike, are as sure as its digits; a
    # nation read as one of the 56 names is confirmed by the list.
    assert parsed.confidence["nation"] == 0.995
    assert parsed.confidence["number"] == 0.998
    assert parsed.confidence["birthday"] == 0.998
    assert parsed.confidence["sex"] == 0.998


def test_an_address_line_of_one_character_at_the_value_column_is_the_address_s() -> None:
    """The address's last line holds 室 alone, set where the values start: its middle
    lies left of the label column's edge, yet it is no label (no label's character, no
    value beside it) and ends the address. A label alone on its row stays a label."""
    lines = [
        TextLine("姓名", 0.99, 32, 55, 100, 90),
        TextLine("吴佳", 0.99, 150, 50, 206, 95),
        TextLine("性别男民族汉", 0.99, 29, 116, 375, 152),
        TextLine("出生1958年12月3日", 0.99, 26, 180, 380, 215),
        TextLine("住址广西壮族自治区南宁市青秀区", 0.99, 16, 240, 547, 280),
        TextLine("和平街169号10栋4单元1801", 0.99, 108, 285, 529, 318),
        TextLine("室", 0.99, 103, 326, 149, 360),
        TextLine("公民身份号码450103195812034398", 0.99, 1, 440, 663, 478),
    ]
    parsed = parse(group_rows(lines, label_column_right=141))
    assert parsed.info["address"] == "广西壮族自治区南宁市青秀区和平街169号10栋4单元1801室"
    (alone,) = group_rows([TextLine("住址", 0.99, 30, 240, 100, 280)], label_column_right=141)
    assert alone.value_text == ""


def test_confidence_is_the_least_sure_character_where_the_recogniser_gives_it() -> None:
    lines = [TextLine("签发机关深圳市公安局南山分局", 0.99, 60, 380, 700, 410, least=0.62),
             TextLine("有效期限2015.03.01-2025.03.01", 0.97, 60, 440, 700, 470, least=0.9)]
    parsed = parse(group_rows(lines))
    assert parsed.confidence == {"authority": 0.62, "timelimit": 0.99}  # a lawful period
    unlawful = [lines[0], TextLine("有效期限2015.03.01-2024.03.01", 0.97, 60, 440, 700, 470,
                                   least=0.99)]  # fmt: skip
    assert parse(group_rows(unlawful)).confidence["timelimit"] == 0.99  # valid, unconfirmed


def test_confidence_counts_the_fields_own_characters_not_its_labels() -> None:
    office = "深圳市公安局前海分局"  # 前海 is no district the table lists
    chars = (*((ch, 0.6) for ch in "签发机关 "), *((ch, 0.99) for ch in office))
    line = TextLine(f"签发机关 {office}", 0.9, 60, 380, 700, 410, least=0.6, chars=chars)
    period = TextLine("有效期限2015.03.01-2025.03.01", 0.99, 60, 440, 700, 470)
    assert parse(group_rows([line, period])).confidence["authority"] == 0.99
    # One of its own characters unsure: the field is.
    unsure = tuple((ch, 0.7 if ch == "海" else p) for ch, p in chars)
    line = dataclasses.replace(line, chars=unsure)
    assert parse(group_rows([line, period])).confidence["authority"] == 0.7


@pytest.mark.parametrize(
    ("office", "sure", "given"),
    [("深圳市公安局南山分局", True, ""),  # the table lists 南山区 in 深圳市
     ("乌鲁木齐市公安局天山区分局", True, ""),
     ("深圳市公安局前海分局", False, ""),  # no listed district
     # 市 lost: doubted, it is taken for the listed office one character away, not
     # flagged: 市 is a character of the name's form, the one such a name holds there.
     ("武汉公安局洪山区分局", True, "武汉市公安局洪山区分局"),
     # 山 misread: a character telling offices apart, so the listed one is a guess.
     ("武汉市公安局洪出区分局", False, "武汉市公安局洪山区分局")],
)
def test_an_office_the_table_lists_whole_is_confirmed_by_it(office: str, sure: bool,
                                                            given: str) -> None:  # fmt: skip
    """A misread seldom lands on another district of the same city: an office whose
    every part the GB/T 2260 table lists is as sure as a listed address's divisions,
    even where the recogniser doubted one of its characters (a stamp across it)."""
    chars = tuple((ch, 0.4 if i == len(office) - 3 else 0.99) for i, ch in enumerate(office))
    line = TextLine(f"签发机关{office}", 0.9, 60, 380, 700, 410, least=0.4,
                    chars=(*((ch, 0.99) for ch in "签发机关"), *chars))  # fmt: skip
    period = TextLine("有效期限2015.03.01-2025.03.01", 0.99, 60, 440, 700, 470)
    parsed = parse(group_rows([line, period]))
    assert parsed.info["authority"] == (given or office)
    assert (parsed.confidence["authority"] >= 0.95) is sure


def test_a_names_middle_dot_does_not_count() -> None:
    # The recogniser's probability of a dot is shared among its look-alikes.
    chars = tuple((ch, 0.58 if ch == "•" else 0.99) for ch in "阿依古丽•库尔班")
    lines = [TextLine("姓名", 1.0, 60, 55, 120, 85),
             TextLine("阿依古丽•库尔班", 0.9, 150, 50, 400, 88, least=0.58, chars=chars),
             *(TextLine(text, 1.0, 60, 60 * i, 700, 60 * i + 30) for i, text in enumerate(
                 ["性别女民族维吾尔", "出生1988年1月27日", "住址新疆维吾尔自治区乌鲁木齐市天山区",
                  "公民身份号码650102198801276972"], start=2))]  # fmt: skip
    parsed = parse(group_rows(lines, label_column_right=141))
    assert parsed.info["name"] == "阿依古丽·库尔班" and parsed.confidence["name"] == 0.99


def test_a_field_failing_its_rule_or_amended_is_never_sure() -> None:
    front = ["姓名李小红", "性别女民族汉", "出生1988年1月27日", "住址广东省深圳市南山区建设大道197号",
             "公民身份号码440305198801276978"]  # fmt: skip
    sure = [TextLine(text, 1.0, 60, 60 * i, 700, 60 * i + 30) for i, text in enumerate(front)]
    parsed = parse(group_rows(sure))
    assert parsed.validity["number"] is False and parsed.confidence["number"] == 0.5
    assert parsed.confidence["name"] == 1.0
    # A nation a misread away from the listed one is a guess.
    snapped = [*sure[:1], dataclasses.replace(sure[1], text="性别女民族崩龙"), *sure[2:]]
    parsed = parse(group_rows(snapped))
    assert parsed.info["nation"] == "独龙" and parsed.confidence["nation"] == 0.9
    # A stamp cut out of the address's line, and the address ends as none does: what
    # the stamp left (tests/engines/test_local_stamped_confidence.py).
    stamped = [*sure[:3], dataclasses.replace(sure[3], text=f"{front[3]}双", stamped=True),
               sure[4]]  # fmt: skip
    assert parse(group_rows(stamped)).confidence["address"] == 0.9
    # An address whose lines lie two lines apart lost the one between.
    gap = [*sure[:3], TextLine("住址广东省深圳市南山区", 1.0, 60, 180, 700, 210),
           TextLine("建设大道197号", 1.0, 150, 260, 500, 290),
           TextLine("公民身份号码440305198801276978", 1.0, 60, 330, 700, 360)]  # fmt: skip
    parsed = parse(group_rows(gap))
    assert parsed.info["address"] == "广东省深圳市南山区建设大道197号"
    assert parsed.confidence["address"] == 0.9


def test_confidence_of_a_field_not_found_is_zero() -> None:
    parsed = parse(rows("签发机关深圳市公安局南山分局", "有效期限"))
    assert parsed.side == "back"
    assert parsed.confidence == {"authority": 1.0, "timelimit": 0.0}


@pytest.mark.parametrize(
    ("text", "label", "rest"),
    [
        ("iSlSU住址新疆维吾尔自治区", "住址", "新疆维吾尔自治区"),  # a Uyghur label read as junk
        ("8i57姓名唐军雪", "姓名", "唐军雪"),
        ("名刘洋", "姓名", "刘洋"),  # no junk: the tolerant match still works
        ("刘洋", "姓名", "刘洋"),
    ],
)
def test_a_label_is_found_behind_another_scripts_junk(text: str, label: str, rest: str) -> None:
    assert after_label(text, label) == rest


def test_an_address_begins_at_its_province() -> None:
    junk_then_address = "音夏夏艺串ēT四川省成都市武侯区中山路135号"
    assert anchor_address(junk_then_address, "510107197311102613") == "四川省成都市武侯区中山路135号"
    # The holder moved: the number says Sichuan, the card says Beijing; the address wins.
    assert anchor_address("57北京市海淀区长江路1号", "510107197311102613") == "北京市海淀区长江路1号"
    # No province found at all: nothing is cut, and the address is not called valid.
    assert anchor_address("幸福小区居民组", "") == "幸福小区居民组"
    assert not checks.address_ok("幸福小区居民组3栋")
    assert checks.address_ok("湖南省长沙市开福区巡道街幸福小区居民组")


def test_bilingual_front_keeps_only_the_chinese() -> None:
    parsed = parse(
        rows(
            "Singmp姓名诸葛磊",
            "Singbied性别男民族壮",
            "Seng出生2004年12月8日",
            "Dieghyoug住址jjlxcxjihtxq广西壮族自治区南宁市青秀区",
            "人民路606号",
            "公民身份号码450103200412081092",
        )
    )
    assert parsed.info["name"] == "诸葛磊"
    assert parsed.info["address"] == "广西壮族自治区南宁市青秀区人民路606号"
    assert all(parsed.validity.values()), parsed.validity


def test_small_lines_of_another_script_are_dropped_on_a_rectified_card() -> None:
    from batch_ocr.engines.local._reading import _drop_other_script_lines

    lines = [
        TextLine("音夏夏艺串ēT", 0.56, 146, 219, 246, 242),  # a Yi line above the address
        TextLine("吾是出", 0.79, 58, 421, 147, 447),  # a Korean label read as Chinese
        TextLine("jjlxcxji htxq", 0.99, 145, 219, 311, 246),  # Zhuang, read surely
        TextLine("住址", 1.0, 58, 250, 128, 280),  # a Chinese label: small, but sure
        TextLine("2013", 1.0, 146, 223, 220, 250),  # a year apart from 年: digits, sure
        TextLine("四川省成都市武侯区中山路1", 1.0, 146, 247, 546, 282),
        TextLine("公民身份号码", 1.0, 59, 444, 229, 473),
        TextLine("510107197311102613", 0.97, 257, 441, 669, 475),
    ]
    kept = [ln.text for ln in _drop_other_script_lines(lines)]
    assert kept == [
        "住址", "2013", "四川省成都市武侯区中山路1", "公民身份号码", "510107197311102613"]


def test_a_stamp_across_two_rows_does_not_join_them() -> None:
    lines = [
        TextLine("签发机关", 1.0, 408, 537, 539, 577),
        TextLine("厦门市公安局思明分局", 0.99, 557, 527, 875, 576),
        TextLine("复印无效", 0.84, 543, 552, 849, 652),  # the stamp's box, two rows tall
        TextLine("有效期限", 1.0, 408, 597, 529, 637),
        TextLine("2025.07.06-长期", 1.0, 557, 597, 849, 637),
    ]
    texts = [row.text for row in group_rows(lines)]
    assert texts[0] == "签发机关厦门市公安局思明分局"
    assert texts[-1].startswith("有效期限")


@pytest.mark.parametrize(
    ("start", "end", "lawful"),
    [
        ("20150301", "20250301", True),
        ("20150301", "长期", True),
        ("20160229", "20360228", True),  # a leap day's anniversary
        ("20150301", "20250302", False),  # not to the day: a misread digit
        ("20150301", "20230301", False),  # 8 years is no card's period
        ("20151301", "长期", False),
    ],
)
def test_a_period_read_off_its_place_must_be_lawful(start: str, end: str, lawful: bool) -> None:
    from batch_ocr.engines.local._period_band import lawful_period as _lawful_period

    assert _lawful_period(start, end) is lawful


@pytest.mark.parametrize(
    ("read", "nation"),
    [("汉效", "汉"), ("怒复", "怒"), ("票汉", "汉"), ("土家", "土家"), ("维吾尔族", "维吾尔"),
     ("视阿器", "阿昌"), ("阿器", "阿昌"), ("蒙占", "蒙古"), ("视器", "视器"), ("", ""),
     ("印珞巴效", "珞巴"), ("复印锡伯效", "锡伯"), ("印汉效", "印汉效"), ("街珞巴效", "街珞巴效")],
)
def test_nation_snaps_to_the_listed_one_inside_junk(read: str, nation: str) -> None:
    from batch_ocr.engines.local._front import _snap_nation

    assert _snap_nation(read) == nation


def test_the_sex_row_read_twice_leaves_its_label_out_of_the_nation() -> None:
    """Two boxes over one row (性别男民族撒拉 and 性别男 again): the nation ends where
    the sex label starts again."""
    parsed = parse(rows("姓名马平", "性别男民族撒拉性别男", "出生1979年6月1日",
                        "住址广东省深圳市南山区滨河北路811号", "440305197906016773"))  # fmt: skip
    assert (parsed.info["sex"], parsed.info["nation"]) == ("男", "撒拉")


@pytest.mark.parametrize(
    ("office", "read_as", "flagged"),
    [("重庆市公要局渝中区分局", "重庆市公安局渝中区分局", False),
     ("拉萨市公委局城关分局", "拉萨市公安局城关分局", False),
     ("重庆市公要局朝阳区分局", "重庆市公安局朝阳区分局", True),
     ("武汉市公委局", "武汉市公安局", False),
     ("入上海市公委局", "入上海市公安局", True),
     ("武汉市江岸公委局", "武汉市江岸公安局", True),
     ("天津市公安局南开分局", "天津市公安局南开分局", False),
     # No 公安局 to read back, but a slip from the listed 上海市公安局: flagged.
     ("上海市公安分局", "上海市公安分局", True)],
)
def test_the_public_security_word_misread_in_its_middle_is_read_back(
    office: str, read_as: str, flagged: bool
) -> None:
    """公安局 under a stamp read 公委局 or 公要局: every office's name holding 公 then
    局 holds 公安局; the field says it was not read as given (under 0.95), unless every
    other part of the name is a listed division: its place, then a district of that
    place's (渝中区, 城关 of 城关区) before 分局, or nothing."""
    parsed = parse(rows("签发机关" + office, "有效期限2015.03.01-2035.03.01"))
    assert parsed.info["authority"] == read_as
    assert parsed.validity["authority"]
    assert (parsed.confidence["authority"] < 0.95) is flagged


def _box(x0: float, y0: float, x1: float, y1: float) -> object:
    import numpy as np

    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def test_a_backs_title_and_a_fronts_number_label_are_put_off_by_their_place() -> None:
    pytest.importorskip("numpy")
    from batch_ocr.engines.local._read_order import put_off

    card = (540, 856, 3)
    back = [
        _box(260, 60, 720, 118),  # 中华人民共和国, large, top right
        _box(300, 140, 640, 210),  # 居民身份证, larger still
        _box(190, 378, 330, 414),  # 签发机关
        _box(340, 372, 760, 410),  # the office
        _box(190, 438, 330, 474),  # 有效期限 (starts right of a front's labels)
        _box(340, 432, 760, 470),  # the period
    ]
    assert put_off(back, card) == {0, 1}
    front = [
        _box(40, 60, 130, 100),  # 姓名
        _box(150, 52, 330, 102),  # a name printed large: starts too far left for a title
        _box(330, 120, 430, 170),  # 民族 汉, large: ends too far left for a title
        _box(150, 250, 600, 290),  # the address
        _box(45, 440, 240, 476),  # 公民身份号码, alone in its box
        _box(255, 436, 700, 478),  # the number
    ]
    assert put_off(front, card) == {4}
    # The label and the number in one box: nothing to put off.
    assert put_off([*front[:4], _box(45, 436, 700, 478)], card) == set()


def test_a_number_that_fails_its_check_as_printed_is_not_read_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    np = pytest.importorskip("numpy")
    from batch_ocr.engines.local import _reading
    from batch_ocr.engines.local._parsed import Parsed

    printed = "11204416541220243X"  # a specimen's: its check character fails
    validity = dict.fromkeys(("name", "sex", "nation", "birthday", "address"), True)
    parsed = Parsed("front", {"number": printed}, {**validity, "number": False})
    reading = _reading._Reading(parsed, np.zeros((540, 856, 3), np.uint8), card_frame=True)
    bands = {"read": [(printed, 0.99, (0, 0, 1, 1))]}
    monkeypatch.setattr(_reading, "number_band_reads", lambda card: iter(bands["read"]))
    assert _reading._number_as_printed(reading)
    # The band reads other digits: a sharper look may read the line better.
    bands["read"] = [("112044165412202438", 0.96, (0, 0, 1, 1))]
    assert not _reading._number_as_printed(reading)
    # Another field doubtful too: the second look is still taken.
    parsed.validity["name"] = False
    bands["read"] = [(printed, 0.99, (0, 0, 1, 1))]
    assert not _reading._number_as_printed(reading)
    # A card printing 17 digits, read the same at its place: not read twice either.
    short = "11204416541220243"
    parsed = Parsed("front", {"number": short}, {**validity, "number": False})
    reading = _reading._Reading(parsed, np.zeros((540, 856, 3), np.uint8), card_frame=True)
    pieces = {"read": [(short, 0.99, (0, 0, 1, 1))]}
    monkeypatch.setattr(_reading, "number_band_pieces", lambda card: iter(pieces["read"]))
    assert _reading._number_as_printed(reading)
    pieces["read"] = [(printed, 0.99, (0, 0, 1, 1))]  # the band reads one digit more
    assert not _reading._number_as_printed(reading)


def test_a_blank_template_front_gives_no_address_from_its_printed_labels() -> None:
    # A blank copy template's front alone: the birth row's printed 年 月 日, read beside
    # 住址, is no address (the emulator answered such a crop with address 月日).
    from batch_ocr.engines.local._parsed import FRONT_VALIDITY_KEYS, Parsed
    from batch_ocr.engines.local._result import _card_data

    for printed in ("年月日", "月日", " 日 "):
        blank = Parsed(side="front", info={"name": "", "address": printed},
                       validity=dict.fromkeys(FRONT_VALIDITY_KEYS, False))
        data = _card_data(blank)
        assert (data.result, data.info.address) == (1, "")
    filled = dataclasses.replace(blank, info={"name": "", "address": "北京市东城区日坛路"})
    assert _card_data(filled).info.address == "北京市东城区日坛路"


@pytest.mark.parametrize(
    ("printed", "why"),
    [
        ("4403051988012769", "16 digits"),
        ("44030519880127697", "17 digits"),
        ("4403051988012769797", "19 digits: its first 18 pass the check character"),
        ("440305198801276978", "a wrong check character"),
    ],
)
def test_a_number_is_read_as_printed_and_never_goes_to_the_address(printed: str,
                                                                   why: str) -> None:
    parsed = parse(rows("姓名李小红", "性别女民族汉", "出生1988年1月27日",
                        "住址广东省深圳市南山区建设大道197号", f"公民身份号码{printed}"))  # fmt: skip
    assert parsed.info["number"] == printed, why
    assert parsed.validity["number"] is False
    assert parsed.info["address"] == "广东省深圳市南山区建设大道197号"
    # Without its label, below a village's name, it is still the number.
    parsed = parse(rows("姓名李小红", "性别女民族汉", "出生1988年1月27日",
                        "住址河北省保定市安新县焦家庄村", printed))  # fmt: skip
    assert (parsed.info["number"], parsed.info["address"]) == (printed, "河北省保定市安新县焦家庄村")


def test_the_piece_of_a_number_a_stamp_left_is_the_number_not_the_address() -> None:
    parsed = parse(rows("姓名李小红", "性别女民族汉", "出生1975年12月19日",
                        "住址河北省保定市安新县焦家庄村", "效19751219649"))  # fmt: skip
    assert parsed.info["address"] == "河北省保定市安新县焦家庄村"
    assert parsed.info["number"] == "19751219649"
    assert parsed.validity["number"] is False


def test_a_birth_date_that_does_not_exist_is_kept_as_printed() -> None:
    number = "440305199002306975"  # its digits say 30 February too
    parsed = parse(rows("姓名李小红", "性别女民族汉", "出生1990年2月30日",
                        "住址广东省深圳市南山区建设大道197号", f"公民身份号码{number}"))  # fmt: skip
    assert (parsed.info["year"], parsed.info["month"], parsed.info["day"]) == ("1990", "2", "30")
    assert parsed.validity["birthday"] is False and parsed.validity["number"] is False
    assert parsed.info["number"] == number


def test_a_period_with_a_day_that_does_not_exist_is_kept_as_printed() -> None:
    parsed = parse(rows("签发机关深圳市公安局南山分局", "有效期限2019.02.30-2029.02.30"))
    assert parsed.info["timelimit"] == "20190230-20290230"
    assert parsed.validity == {"authority": True, "timelimit": False}


@pytest.mark.parametrize(
    ("read", "name", "sure"),
    [
        # 复印无效 across the name: its 复 before it, cut, and the name read sure is
        # judged as a stamped field (tests/engines/test_local_stamped_confidence.py)
        ("姓名复唐娟", "唐娟", True),
        ("姓名复孙欣超效", "孙欣超", True),  # ... and its 效 after it
        ("姓名张平晨效", "张平晨效", False),  # a 效 alone may be a given name's: flagged
        ("姓名王效", "王效", True),
        ("姓名李复", "李复", True),
    ],
)  # fmt: skip
def test_a_copy_stamps_ends_never_stay_in_a_name_unflagged(read: str, name: str,
                                                          sure: bool) -> None:  # fmt: skip
    front = [read, "性别女民族汉", "出生1988年1月27日", "住址广东省深圳市南山区建设大道197号",
             "公民身份号码440305198801276979"]  # fmt: skip
    lines = [TextLine(text, 1.0, 60, 60 * i, 700, 60 * i + 30) for i, text in enumerate(front)]
    parsed = parse(group_rows(lines))
    assert parsed.info["name"] == name
    assert (parsed.confidence["name"] >= 0.95) is sure


def test_the_backs_title_read_into_the_offices_row_is_not_the_office() -> None:
    parsed = parse(rows("中华人民共和国居民身份证乌鲁木齐市公安局天山区分局",
                        "有效期限2015.03.01-2035.03.01"))  # fmt: skip
    assert parsed.info["authority"] == "乌鲁木齐市公安局天山区分局"
    parsed = parse(rows("居民身份证", "签发机关中华人民共和国国家移民管理局",
                        "有效期限2015.03.01-2035.03.01"))  # fmt: skip
    assert parsed.info["authority"] == "中华人民共和国国家移民管理局"


def test_a_nation_whose_row_lost_its_labels_and_sex_under_a_stamp_is_still_read() -> None:
    parsed = parse(rows("姓名徐欣洋", "裕固", "出生1950年5月11日", "住址西藏自治区拉萨市城关区9组",
                        "公民身份号码540102195005112615"))  # fmt: skip
    assert parsed.info["nation"] == "裕固"
    assert parsed.info["sex"] == "男"  # from the checksummed number
    assert parsed.info["name"] == "徐欣洋"
    # What a 再次复印无效 stamp leaves before it is cut: 裕固 was read as printed, and no
    # other nation holds it, so the list confirms it as under any stamp.
    parsed = parse(rows("姓名徐欣洋", "再次贯裕固", "出生1950年5月11日", "住址西藏自治区拉萨市城关区9组",
                        "公民身份号码540102195005112615"))  # fmt: skip
    assert parsed.info["nation"] == "裕固"
    assert parsed.confidence["nation"] >= 0.95
    # A stamp's characters on both sides of it (复印无效 across the field) are cut too.
    parsed = parse(rows("姓名徐欣洋", "性别男民族印珞巴效", "出生1950年5月11日",
                        "住址西藏自治区拉萨市城关区9组", "公民身份号码540102195005112615"))  # fmt: skip
    assert parsed.info["nation"] == "珞巴" and parsed.validity["nation"]
    assert parsed.confidence["nation"] >= 0.95
    # 土 cut out of more may be 土家 with 家 misread: flagged.
    parsed = parse(rows("姓名徐欣洋", "土效", "出生1950年5月11日", "住址西藏自治区拉萨市城关区9组",
                        "公民身份号码540102195005112615"))  # fmt: skip
    assert parsed.info["nation"] == "土" and parsed.confidence["nation"] < 0.95


def test_what_is_read_after_an_offices_name_ends_is_cut_and_flagged() -> None:
    parsed = parse(rows("签发机关乌鲁木齐市公安局天山区分局第点", "有效期限2015.03.01-2035.03.01"))
    assert parsed.info["authority"] == "乌鲁木齐市公安局天山区分局"
    assert parsed.confidence["authority"] < 0.95
    # A longer tail is no remnant: left as read, and the office fails its rule.
    parsed = parse(rows("签发机关乌鲁木齐市公安局天山区分局第一派出", "有效期限2015.03.01-2035.03.01"))
    assert parsed.validity["authority"] is False


def test_a_smudge_on_a_row_of_its_own_under_a_listed_office_takes_nothing_from_it() -> None:
    """A row of junk between the office and the period (a Korean line misread, a
    smudge) is cut; after a name the table lists whole it leaves nothing unknown, after
    another it may be the rest of the name."""
    junk = dataclasses.replace(rows("", "第点22")[1], least=0.19,
                               chars=(("第", 0.19), ("点", 0.4), ("2", 0.92), ("2", 0.99)))
    for office, sure in (("乌鲁木齐市公安局天山区分局", True), ("深圳市公安局前海分局", False)):
        card = rows(f"签发机关{office}", "", "有效期限2015.03.01-2035.03.01")
        card[1] = junk
        parsed = parse(card)
        assert parsed.info["authority"] == office
        assert (parsed.confidence["authority"] >= 0.95) is sure


def test_a_backs_words_read_on_a_fronts_row_never_join_its_fields() -> None:
    """Two cards side by side in one photo: the back's words on the front's rows."""
    parsed = parse(rows("姓名周海中华人民共和国", "性别男民族锡伯", "出生1990年1月2日",
                        "住址西藏自治区拉萨市城关区长江路303号10栋404室签发机关拉萨市公安局城关分局",
                        "公民身份号码540102199001021234"))  # fmt: skip
    assert parsed.side == "front"
    assert parsed.info["name"] == "周海"
    assert parsed.info["address"] == "西藏自治区拉萨市城关区长江路303号10栋404室"
    assert parsed.confidence["address"] < 0.95 and parsed.confidence["name"] < 0.95


def test_the_periods_label_read_before_the_office_is_cut_and_flagged() -> None:
    parsed = parse(rows("中华人民共和国", "居民身份证", "签发机关有效期限上海市公安局徐汇分局",
                        "2015.03.01-2035.03.01"))  # fmt: skip
    assert parsed.info["authority"] == "上海市公安局徐汇分局"
    assert parsed.confidence["authority"] < 0.95


def test_a_row_read_before_the_addresss_province_does_not_lower_the_address() -> None:
    """A stamp over the birth date hides its year: the row is read as the address's
    start, then cut off at the province. The recogniser's doubt of the stamp's
    characters on that row says nothing of the address."""
    stamped_birth = dataclasses.replace(
        rows("出生复9印年21日")[0], least=0.18, stamped=True,
        chars=(("复", 0.78), ("9", 0.86), ("印", 0.18), ("年", 0.52), ("2", 0.85), ("1", 0.88)),
    )  # fmt: skip
    card = rows("姓名吴涛敏", "性别男民族汉", "", "住址陕西省西安市雁塔区幸福里73", "6号",
                "公民身份号码610113196908214956")  # fmt: skip
    card[2] = dataclasses.replace(stamped_birth, top=80.0, bottom=110.0)
    parsed = parse(card)
    assert parsed.info["address"] == "陕西省西安市雁塔区幸福里736号"
    assert parsed.confidence["address"] >= 0.95


def test_a_bilingual_backs_line_under_the_office_takes_nothing_from_it() -> None:
    """A Zhuang back prints the office's name in Zhuang under the Chinese one: the
    recogniser's doubt of a Latin letter there says nothing of the Chinese name."""
    zhuang = dataclasses.replace(rows("", "Geizhanhmizyauq")[1], least=0.91,
                                 chars=tuple((ch, 0.91 if ch == "q" else 0.99)
                                             for ch in "Geizhanhmizyauq"))  # fmt: skip
    card = rows("签发机关南宁市公安局青秀分局", "", "有效期限2017.12.21-2037.12.21")
    card[1] = zhuang
    parsed = parse(card)
    assert parsed.info["authority"] == "南宁市公安局青秀分局"
    assert parsed.confidence["authority"] >= 0.95


def test_a_bilingual_cards_latin_line_under_the_address_is_not_the_address() -> None:
    """A Uyghur line read as Latin letters (or a Zhuang line) between the address and
    the number: no Chinese address holds a line without Chinese."""
    lines = [
        TextLine("姓名艾力·艾山", 0.99, 60, 50, 300, 85),
        TextLine("性别男民族维吾尔", 0.99, 60, 116, 385, 152),
        TextLine("出生1988年7月12日", 0.99, 60, 180, 400, 215),
        TextLine("住址新疆维吾尔自治区乌鲁木齐市", 0.99, 60, 245, 560, 280),
        TextLine("天山区新华街513号30栋402", 0.99, 150, 287, 520, 322),
        TextLine("室", 0.99, 150, 329, 180, 364),
        TextLine("Sieghias", 0.5, 60, 380, 300, 410),
        TextLine("公民身份号码650102198807128861", 0.99, 60, 440, 800, 480),
    ]
    parsed = parse(group_rows(lines, label_column_right=141))
    assert parsed.info["address"] == "新疆维吾尔自治区乌鲁木齐市天山区新华街513号30栋402室"
    assert parsed.validity["number"]


def test_a_bank_cards_number_makes_no_card_side() -> None:
    """A debit card beside the ID card: its 16 digits are no ID number (no province's
    code and birth date in them) nor a period (no dates), so it is no side, and the ID
    card's side is looked for elsewhere."""
    bank = [TextLine("借记卡", 0.99, 60, 50, 200, 85),
            TextLine("6674 7236 0492 7326", 0.99, 60, 200, 600, 240),
            TextLine("VALID THRU 09/29", 0.99, 60, 260, 300, 290)]  # fmt: skip
    assert parse(group_rows(bank)).side == "none"
    # An ID number alone (its labels lost to glare) is still a front's; a period alone
    # a back's.
    alone = [TextLine("李小红", 0.99, 60, 50, 200, 85),
             TextLine("440305198801276987", 0.99, 60, 200, 600, 240)]  # fmt: skip
    assert parse(group_rows(alone)).side == "front"
    period = [TextLine("2019.01.26-2039.01.26", 0.99, 60, 200, 600, 240)]
    assert parse(group_rows(period)).side == "back"


def test_a_period_is_the_one_whose_start_reads_as_a_date() -> None:
    """A front's number of 19 characters (or a bank card's digits) beside the back takes
    a period's shape (36011319-68611165); the back's own period is the one given."""
    rows = [TextLine("3601131968611165068", 0.99, 60, 20, 700, 50),
            TextLine("签发机关南昌市公安局红谷滩分局", 0.99, 60, 380, 700, 410),
            TextLine("有效期限2018.11.26-长期", 0.99, 60, 440, 700, 470)]  # fmt: skip
    assert parse_back(group_rows(rows)).info["timelimit"] == "20181126-长期"


def test_a_period_read_off_the_number_s_digits_is_invalid_and_flagged() -> None:
    """A copy page read whole, its back's period lost: the front's number above it
    (450103197705081200) takes a period's shape, 45010319-77050812, of real dates the
    recogniser is sure of. No card's period lies in those centuries: it is invalid,
    never given at a confidence a row is accepted at."""
    rows = [TextLine("签发机关南宁市公安局青秀分局", 0.99, 60, 380, 700, 410),
            TextLine("有效期限4501031977050812", 0.99, 60, 440, 700, 470)]  # fmt: skip
    parsed = parse_back(group_rows(rows))
    assert parsed.info["timelimit"] == "45010319-77050812"
    assert parsed.validity["timelimit"] is False
    assert parsed.confidence["timelimit"] < 0.95
    assert checks.timelimit_ok("20200120-20400120")


def test_an_address_row_is_never_taken_for_the_name() -> None:
    """Glare took the name's row: the first row left is the address's, labelled 住址.
    The name is missing (its row flagged), never the address with its label."""
    parsed = parse(rows("出生1971年11", "住址上海市浦东新区幸福里551号",
                        "公民身份号码310115197111050911"))
    assert parsed.side == "front"
    assert parsed.info["name"] == ""
    assert parsed.info["address"] == "上海市浦东新区幸福里551号"


@pytest.mark.parametrize("office", ["号码", "中华人民共和国", "居民中华人民"])
def test_a_label_read_where_the_office_was_lost_is_never_the_office(office: str) -> None:
    """The office's line lost (glare, a card read upside down): what its label was
    followed by is another label or the title, which is never given as the office."""
    parsed = parse_back(rows("中华人民共和国", "居民身份证", f"签发机关{office}",
                             "有效期限2014.06.05-2024.06.05"))
    assert parsed.info["authority"] == ""
    assert parsed.info["timelimit"] == "20140605-20240605"
