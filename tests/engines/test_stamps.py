"""Stamps and watermarks of a copy never reach a field."""

from __future__ import annotations

import pytest

from batch_ocr.engines.local._stamps import is_stamp, strip_stamps


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("蒙古印无效", "蒙古"),  # the stamp's 复 lost under the nation: 古 is kept
        ("梁家崖村复印无效", "梁家崖村"),
        ("610304196902100928复印无效", "610304196902100928"),
        ("复印无郊", ""),  # 效 misread
        ("汉复.无效", "汉"),
        ("仅限BDCI比赛使用姓名倪雪婷", "姓名倪雪婷"),
        ("此复印件仅供办理银行开户使用", ""),
        ("仅限BDCI比", ""),  # cut short at the card's edge
        ("再次复印无效", ""),
        ("仅用于入职", ""),
    ],
)
def test_stamps_are_cut_out_of_a_line(line: str, kept: str) -> None:
    assert strip_stamps(line) == kept


@pytest.mark.parametrize(
    "line",
    ["北京市朝阳区建国路88号院3号楼", "公民身份号码", "签发机关", "2015.07.15-长期", "复兴路12号",
     "印刷厂宿舍", "仅"],
)  # fmt: skip
def test_field_text_is_left_alone(line: str) -> None:
    assert strip_stamps(line) == line
    assert not is_stamp(line)


def test_a_line_that_is_only_a_stamp_disappears() -> None:
    assert is_stamp("复印无效") and is_stamp("【复印无效】")
