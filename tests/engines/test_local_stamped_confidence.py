"""How sure the offline engine is of a field a copy's stamp crossed, and what hybrid pays
for: a stamped field that cross-checks is vouched for, one that does not is doubted.

Pure Python: recognised lines in (as the recogniser gives them once a stamp's text is cut
out of a line, ``TextLine.stamped``), the confidence and the hybrid engine's doubts out.
"""

from __future__ import annotations

import dataclasses

from batch_ocr.engines.hybrid import vouch
from batch_ocr.engines.local._fields import parse
from batch_ocr.engines.local._result import _card_data, column_confidence
from batch_ocr.engines.local._rows import group_rows
from batch_ocr.run.cards import CardRead
from tests.engines.hybrid.cards import AS_OF
from tests.engines.stamped_lines import BACK, FRONT, lines


def doubts(texts: list[str], **kwargs: object) -> tuple[str, ...]:
    """What hybrid would pay the API for, for the card these lines make."""
    parsed = parse(group_rows(lines(texts, **kwargs)))  # type: ignore[arg-type]
    read = CardRead(_card_data(parsed), confidence=column_confidence(parsed))
    return vouch.row_doubts(read, ("copy",), as_of=AS_OF)


def test_a_stamped_copy_whose_fields_all_cross_check_is_not_escalated() -> None:
    # 复印无效 across the sex and nation, the birth date and the number: the checksummed
    # number confirms the birth date and sex, the nation is one of the 56.
    assert doubts(FRONT, stamped=(1, 2, 4)) == ()
    # Across the period: a dated period of a lawful length confirms its own digits.
    assert doubts(BACK, stamped=(1,)) == ()
    confidence = parse(group_rows(lines(FRONT, stamped=(1, 2, 4)))).confidence
    assert min(confidence.values()) >= 0.95


def test_a_stamped_field_that_fails_a_cross_check_is_escalated() -> None:
    wrong_check_char = [*FRONT[:4], "公民身份号码440305198801276988"]
    found = doubts(wrong_check_char, stamped=(1, 2, 4))
    assert {"invalid:id_number", "check:id_checksum", "low_confidence:id_number"} <= set(found)
    # With the number right, the same stamped birth date is confirmed by it.
    assert "low_confidence:birth_date" not in doubts(FRONT, stamped=(2, 4))


def test_a_stamped_field_with_a_remnant_at_its_edge_is_escalated() -> None:
    # ``…197号双``: the address ends as no address does, what the stamp left.
    remnant = [*FRONT[:3], "住址广东省深圳市南山区建设大道197号双", FRONT[4]]
    assert doubts(remnant, stamped=(3,)) == ("low_confidence:address",)
    assert doubts(FRONT, stamped=(3,)) == ()  # the same address ending clean
    # ``次陈超``: 再次复印无效's 次 left before a name, read as sure as the name.
    name = ["姓名次李小红", *FRONT[1:]]
    assert doubts(name, stamped=(0,)) == ("low_confidence:name",)
    assert doubts(FRONT, stamped=(0,)) == ()
    # ``入上海市…``: something before the office's province-level place.
    office = ["签发机关入上海市公安局浦东分局", BACK[1]]
    assert doubts(office, stamped=(0,)) == ("low_confidence:authority",)
    assert doubts(["签发机关上海市公安局浦东分局", BACK[1]], stamped=(0,)) == ()


def test_a_stamped_field_the_recogniser_is_unsure_of_is_escalated() -> None:
    # Unconfirmed (a name, an address): the recogniser's word alone, and here it is
    # unsure; confirmed fields keep a tenth of its doubt.
    found = doubts(FRONT, stamped=(0, 3), least=0.9)
    assert set(found) == {"low_confidence:name", "low_confidence:address"}


def test_a_stamped_nation_another_nation_holds_is_not_confirmed() -> None:
    # 土 under a stamp may be 土家 with 家 hidden; 汉 is held by no other nation.
    tu = [FRONT[0], "性别女民族土", *FRONT[2:]]
    assert parse(group_rows(lines(tu, stamped=(1,)))).confidence["nation"] < 0.95
    assert parse(group_rows(lines(tu))).confidence["nation"] >= 0.95
    assert parse(group_rows(lines(FRONT, stamped=(1,)))).confidence["nation"] >= 0.95


def test_a_stamped_long_term_period_is_not_confirmed_by_its_length() -> None:
    # 长期 is lawful from any start date: under a stamp its digits rest on the
    # recogniser's word alone.
    long_term = [BACK[0], "有效期限2015.03.01-长期"]
    unsure = lines(long_term, stamped=(1,), least=0.8)
    assert parse(group_rows(unsure)).confidence["timelimit"] < 0.95
    not_stamped = [dataclasses.replace(line, stamped=False) for line in unsure]
    assert parse(group_rows(not_stamped)).confidence["timelimit"] >= 0.95


def test_a_name_with_a_stamp_s_end_cut_off_is_judged_as_stamped() -> None:
    # 复 before the name is the stamp's: cut, and the name read sure is vouched for;
    # 效 after it may be the name's own (王效): kept, and doubted.
    cut = parse(group_rows(lines(["姓名复李小红", *FRONT[1:]])))
    assert (cut.info["name"], cut.confidence["name"]) == ("李小红", 0.99)
    kept = parse(group_rows(lines(["姓名李小红效", *FRONT[1:]])))
    assert kept.info["name"] == "李小红效" and kept.confidence["name"] < 0.95


def test_place_names_the_division_table_confirms_leave_the_recogniser_s_doubt_out() -> None:
    # The recogniser reads 厦 right at 0.82-0.87: in 福建省厦门市思明区, a chain of real
    # divisions, the table vouches for it; the rest of the address stays its own.
    texts = ["姓名李小红", "性别女民族汉", "出生1988年1月27日", "住址福建省厦门市思明区滨河北路792号",
             "公民身份号码350203198801276987"]  # fmt: skip
    read = lines(texts)
    address = read[3]
    unsure_xia = tuple((ch, 0.85 if ch == "厦" else p) for ch, p in address.chars)
    read[3] = dataclasses.replace(address, chars=unsure_xia, least=0.85)
    assert parse(group_rows(read)).confidence["address"] == 0.99
    unsure_road = tuple((ch, 0.85 if ch == "滨" else p) for ch, p in address.chars)
    read[3] = dataclasses.replace(address, chars=unsure_road, least=0.85)
    assert parse(group_rows(read)).confidence["address"] == 0.85
    # Read 夏门市, no division: not confirmed, and the recogniser's doubt stands.
    misread = dataclasses.replace(address, text=address.text.replace("厦", "夏"),
                                  chars=tuple(("夏" if ch == "厦" else ch, p)
                                              for ch, p in unsure_xia))  # fmt: skip
    read[3] = misread
    assert parse(group_rows(read)).confidence["address"] == 0.85
    office = lines(["签发机关厦门市公安局思明分局", "有效期限2015.03.01-2035.03.01"])
    office[0] = dataclasses.replace(
        office[0], chars=tuple((ch, 0.85 if ch == "厦" else p) for ch, p in office[0].chars))
    # The table lists the office whole (思明区 is one of 厦门市's districts): all of it.
    assert parse(group_rows(office)).confidence["authority"] == 1.0


def test_an_address_line_of_place_names_only_counts_as_sure() -> None:
    # Its first line all confirmed by the table (新疆维吾尔自治区乌鲁木齐市天山区), the
    # address is as sure as its second line; not the first line's label or 齐 at 0.8.
    texts = ["姓名李小红", "性别女民族汉", "出生1988年1月27日",
             "住址新疆维吾尔自治区乌鲁木齐市天山区", "长江路303号",
             "公民身份号码650102198801276986"]  # fmt: skip
    read = lines(texts)
    first = read[3]
    read[3] = dataclasses.replace(first, least=0.5, chars=tuple(
        (ch, 0.5 if ch in "住址" else 0.8 if ch == "齐" else p) for ch, p in first.chars))
    read[4] = dataclasses.replace(read[4], left=150, top=215, bottom=245)
    parsed = parse(group_rows(read))
    assert parsed.info["address"] == "新疆维吾尔自治区乌鲁木齐市天山区长江路303号"
    assert parsed.confidence["address"] == 0.99


def test_what_a_stamp_left_after_an_address_s_end_is_cut() -> None:
    # ``…197号再次``: 再次复印无效 across the address's end, its 复印无效 sunk into the
    # print, the line itself not seen as stamped: the address is given without 再次.
    tail = [*FRONT[:3], FRONT[3] + "再次", FRONT[4]]
    assert parse(group_rows(lines(tail))).info["address"] == "广东省深圳市南山区建设大道197号"
    assert doubts(tail) == ()
