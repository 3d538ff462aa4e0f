"""Fields a copy's stamp crossed, as a user checks them: a stamp's character is not kept
at a name's start, a nation read under a stamp is the listed nation, an office's name
read with a place's character slipped is the office the division table lists (and is
flagged, for it is a guess), and a name read surely is given as read.

Pure Python but the last tests, which read a stamped card (the ``local`` extra).
"""

from __future__ import annotations

from typing import Any

import pytest

from batch_ocr import regions
from batch_ocr.engines.local import available
from batch_ocr.engines.local._back import _nearest_office
from batch_ocr.engines.local._fields import parse
from batch_ocr.engines.local._rows import TextLine, group_rows
from tests.engines.stamped_lines import BACK, FRONT, lines


@pytest.mark.parametrize("read", ["姓名再徐杰小", "姓名次徐杰小", "姓名再次徐杰小"])
def test_a_stamps_first_characters_are_not_kept_at_a_names_start(read: str) -> None:
    # 再次复印无效 across the name: its 再 (or 再次) read before the name, the rest sunk
    # into the name's strokes.
    parsed = parse(group_rows(lines([read, *FRONT[1:]], stamped=(0,))))
    assert parsed.info["name"] == "徐杰小"
    # Flagged all the same: the stamp's 再次 may lie where the name's first character
    # was (再次军 for 曹军), so the name is a guess.
    assert parsed.confidence["name"] <= 0.9


def test_a_name_that_would_be_too_short_without_them_keeps_them() -> None:
    # Two characters at least stay a name: 再军 is not cut to 军.
    parsed = parse(group_rows(lines(["姓名再军", *FRONT[1:]])))
    assert parsed.info["name"] == "再军"


def test_an_office_with_a_places_character_slipped_is_the_listed_office_and_flagged() -> None:
    read = ["签发机关拉沙市公安局城关分局", BACK[1]]
    parsed = parse(group_rows(lines(read, least=0.6)))
    assert parsed.info["authority"] == "拉萨市公安局城关分局"
    # A guess (萨 tells 拉萨 from other places): under the 0.95 a row is accepted at, the row is reviewed.
    assert parsed.confidence["authority"] <= 0.9
    # The same under a stamp whose character was read before the place.
    stamped = parse(group_rows(lines(["签发机关再武汉公安局洪站区分局", BACK[1]], stamped=(0,))))
    assert stamped.info["authority"] == "武汉市公安局洪山区分局"
    assert stamped.confidence["authority"] <= 0.9


def test_an_office_read_surely_is_given_as_read() -> None:
    # An office named since the table's last edition (or one the table does not hold)
    # read surely and under no stamp: printed as it is printed.
    parsed = parse(group_rows(lines(["签发机关拉萨重公安局城关分局", BACK[1]], least=0.99)))
    assert parsed.info["authority"] == "拉萨重公安局城关分局"
    # A slip from a listed office (拉萨市…): far more often the recogniser's than the
    # card's, so a person checks it.
    assert parsed.confidence["authority"] < 0.95
    # 齐 lost at the recogniser's full confidence in its neighbours: the same.
    lost = parse(group_rows(lines(["签发机关乌鲁木市公安局天山区分局", BACK[1]], least=0.995)))
    assert lost.info["authority"] == "乌鲁木市公安局天山区分局"
    assert lost.confidence["authority"] < 0.95
    listed = parse(group_rows(lines(BACK, least=0.6)))
    assert listed.info["authority"] == "深圳市公安局南山分局"


def test_an_office_as_near_two_listed_ones_is_taken_for_neither() -> None:
    assert "杭州市公安局西湖区分局" in regions.offices()
    assert "上海市公安局浦东分局" in regions.offices()  # 浦东新区, named without 新区
    assert _nearest_office("州市公安局西湖区分局") == ("杭州市公安局西湖区分局", True)
    # 城关 is a district of 拉萨 and of 兰州: 兰萨 is one slip from each.
    assert _nearest_office("兰萨市公安局城关分局") == ("兰萨市公安局城关分局", False)
    assert _nearest_office("公安部出入境管理局") == ("公安部出入境管理局", False)


needs_local = pytest.mark.skipif(not available(), reason="the 'local' extra is not installed")


def _stamped_front(field_centre: tuple[int, int], seed: int, nation: str
                   ) -> tuple[Any, Any]:  # fmt: skip
    """A grey copy of a sample front with a grey 复印无效 pressed across ``field_centre``
    (base card pixels), as the rectified card the engine reads, and its person."""
    import random

    import cv2
    import numpy as np

    from batch_ocr.vision import photo as _vision
    from tests.card_pages import make_samples

    samples = make_samples()
    person = samples.make_person(random.Random(seed), nation=nation)
    front = samples.draw_front(person)[0]
    stamped = samples.copy_stamp(front, "复印无效", center=field_centre, angle_deg=-8,
                                 rgb=(100, 100, 100), size_px=36, opacity_percent=60)  # fmt: skip
    grey = cv2.cvtColor(np.asarray(stamped.convert("L").convert("RGB")), cv2.COLOR_RGB2BGR)
    return _vision.fit_long_side(grey, _vision.CARD_WIDTH_PX), person


@needs_local
def test_a_nation_under_a_stamp_is_read_as_the_listed_nation() -> None:
    """The nation's place read with the print's darkest ink: the stamp's lighter ink is
    left out, and only one of the 56 listed nations is taken."""
    from batch_ocr.engines.local import _bands

    for nation in ("东乡", "汉"):
        card, person = _stamped_front((390, 136), seed=7, nation=nation)
        # Where the detector finds the labels on such a card (base card pixels).
        scale = card.shape[1] / 856
        labels = [TextLine("性别", 1.0, 60 * scale, 125 * scale, 130 * scale, 155 * scale),
                  TextLine("出生", 1.0, 60 * scale, 189 * scale, 130 * scale, 219 * scale)]
        line = _bands._read_nation_band(card, labels)
        assert line is not None
        assert (line.text, line.stamped) == ("民族" + person.nation, True)
    # Without the labels the row is not placed, and nothing is read.
    assert _bands._read_nation_band(card, []) is None


def test_a_birth_date_is_read_again_only_against_a_number_failing_its_check() -> None:
    from batch_ocr.engines.local._bands import _birth_in_number

    info = {"year": "", "month": "", "day": "", "number": "440305198801276988"}
    # The number fails its check character: its digits hold the date to read again for.
    assert _birth_in_number(info) == "19880127"
    # Read already as the number holds it: nothing to read again.
    assert _birth_in_number({**info, "year": "1988", "month": "1", "day": "27"}) == ""
    # A checksummed number gives the date itself; one of 17 characters holds none.
    assert _birth_in_number({**info, "number": "440305198801276987"}) == ""
    assert _birth_in_number({**info, "number": "44030519880127698"}) == ""


def test_an_office_read_but_for_the_characters_of_its_form_is_no_guess() -> None:
    """A stamp across 市 and 局 of 拉萨市公安局城关分局: 拉萨 and 城关 read as the table
    names them tell the office, so it is given as listed and not flagged for a guess;
    a slip in 城关 (the district) or in 拉萨, or a character read in excess, is a guess."""
    sure = {
        "拉萨夏公安冕城关分局": "拉萨市公安局城关分局",
        "深圳市公安局南山汾局": "深圳市公安局南山分局",
        "武汉公委局洪山区分局": "武汉市公安局洪山区分局",
    }
    guessed = {
        "拉萨市公安局城美分局": "拉萨市公安局城关分局",
        "拉沙市公安局城关分局": "拉萨市公安局城关分局",
        "武汉市公安局洪山区区分局": "武汉市公安局洪山区分局",
    }
    for read, office in {**sure, **guessed}.items():
        parsed = parse(group_rows(lines([f"签发机关{read}", BACK[1]], stamped=(0,), least=0.6)))
        assert parsed.info["authority"] == office
        assert (parsed.confidence["authority"] >= 0.95) == (read in sure), read


def test_a_name_a_stamps_end_spoilt_is_taken_only_near_what_was_read() -> None:
    from batch_ocr.engines.local._name_band import read_alike_again, spoilt_beside_tail
    from batch_ocr.engines.local._ocr import LineRead

    # 邓概效 for 邓杰: the stamp's 效 after the name, its ink across 杰; 邓杰 read with
    # the print's darkest ink, surely.
    assert spoilt_beside_tail("邓概效", "邓杰", 0.99)
    assert spoilt_beside_tail("陈鹏希效", "陈鹏伟", 0.99)
    assert not spoilt_beside_tail("邓概效", "邓杰", 0.8)  # read unsurely
    assert not spoilt_beside_tail("杨震效", "隔票", 0.99)  # nothing read alike
    assert not spoilt_beside_tail("邓概效", "邓概效", 0.99)  # the stamp's 效 in it
    assert not spoilt_beside_tail("邓概", "邓杰", 0.99)  # no stamp's end read
    assert not spoilt_beside_tail("王效", "王", 0.99)  # a name keeps two characters
    # Sure where read so again, correcting only a character the first read doubted.
    first = [TextLine("邓概效", 0.6, 0, 0, 100, 30, chars=(("邓", 0.99), ("概", 0.24), ("效", 0.99)))]
    again = LineRead("邓杰", 0.99, 0.99, (("邓", 0.99), ("杰", 0.99)))
    assert read_alike_again(iter([again]), "邓杰", "邓概效", first)
    assert not read_alike_again(iter([]), "邓杰", "邓概效", first)  # read once
    assert not read_alike_again(iter([again._replace(text="邓木")]), "邓杰", "邓概效", first)
    sure_first = [TextLine("邓概效", 0.99, 0, 0, 100, 30,
                           chars=(("邓", 0.99), ("概", 0.98), ("效", 0.99)))]  # fmt: skip
    assert not read_alike_again(iter([again]), "邓杰", "邓概效", sure_first)


@needs_local
def test_a_name_read_with_a_stamp_s_end_is_read_again_off_its_place() -> None:
    """A name read with the stamp's 效 after it and a character spoilt beside it: its
    place read with the print's darkest ink gives the name, a guess (flagged)."""
    from batch_ocr.engines.local import _bands
    from batch_ocr.engines.local._confidence import AMENDED_AT_MOST

    card, person = _stamped_front((200, 70), seed=3, nation="汉")
    scale = card.shape[1] / 856
    labels = [TextLine("性别", 1.0, 60 * scale, 125 * scale, 130 * scale, 155 * scale),
              TextLine("出生", 1.0, 60 * scale, 189 * scale, 130 * scale, 219 * scale)]
    spoilt = person.name[:-1] + "概效"
    line = _bands._read_name_band(card, spoilt, labels)
    assert line is not None
    assert (line.text, line.stamped) == (person.name, True)
    assert line.least <= AMENDED_AT_MOST


def test_an_office_read_after_a_stamp_s_character_is_no_sure_read() -> None:
    # 再次复印无效 across 天津市…: its 再 before the name, 天 misread under its ink, the
    # line read surely all the same. The name is the listed one, a guess (flagged).
    read = ["签发机关再关津市公安局南开分局", BACK[1]]
    parsed = parse(group_rows(lines(read, least=0.995)))
    assert parsed.info["authority"] == "天津市公安局南开分局"
    assert parsed.confidence["authority"] <= 0.9
    # 无锡 and 印江 start places: their offices are read as any other.
    listed = parse(group_rows(lines(["签发机关无锡市公安局", BACK[1]], least=0.995)))
    assert listed.info["authority"] == "无锡市公安局"
    assert listed.confidence["authority"] >= 0.95


def _stamped_back(seed: int) -> tuple[Any, Any]:
    """A grey copy of a sample back with a grey 再次复印无效 pressed across its office's
    name, as the rectified card the engine reads, and its person."""
    import random

    import cv2
    import numpy as np

    from batch_ocr.vision import photo as _vision
    from tests.card_pages import make_samples

    samples = make_samples()
    person = samples.make_person(random.Random(seed))
    stamped = samples.copy_stamp(samples.draw_back(person), "再次复印无效", center=(440, 398),
                                 angle_deg=-8, rgb=(100, 100, 100), size_px=36,
                                 opacity_percent=60)  # fmt: skip
    grey = cv2.cvtColor(np.asarray(stamped.convert("L").convert("RGB")), cv2.COLOR_RGB2BGR)
    return _vision.fit_long_side(grey, _vision.CARD_WIDTH_PX), person


@needs_local
def test_an_office_in_doubt_under_a_stamp_is_sure_once_its_print_reads_the_same() -> None:
    """The listed office taken for a name a stamp spoilt (再关津市…), read again with the
    print's darkest ink, reads the same: given as sure."""
    from batch_ocr.engines.local._reading import _read

    card, person = _stamped_back(seed=1)
    parsed = _read(card, rectified=True).parsed
    assert parsed.info["authority"] == person.authority == "天津市公安局南开分局"
    assert parsed.confidence["authority"] >= 0.95


def _stamp_across_the_sex(seed: int) -> tuple[Any, Any]:
    """A grey, blurred copy of a sample front whose number fails its check character
    (as a misprinted card's does: it gives no sex), a grey stamp pressed across its sex
    and label at random, as the rectified card the engine reads, and its person."""
    import dataclasses
    import random

    import cv2
    import numpy as np

    from batch_ocr.vision import photo as _vision
    from tests.card_pages import make_samples

    samples = make_samples()
    rng = random.Random(seed)
    person = samples.make_person(rng)
    wrong = "0" if person.number[17] != "0" else "1"
    person = dataclasses.replace(person, number=person.number[:17] + wrong)
    text = rng.choice(("复印无效", "再次复印无效"))
    stamped = samples.copy_stamp(
        samples.draw_front(person)[0], text,
        center=(168 + rng.uniform(-30, 30), 136 + rng.uniform(-10, 10)),
        angle_deg=rng.uniform(-20, 20), rgb=(90, 90, 90), size_px=int(rng.uniform(28, 42)),
        opacity_percent=rng.randint(45, 75))  # fmt: skip
    grey = cv2.cvtColor(np.asarray(stamped.convert("L").convert("RGB")), cv2.COLOR_RGB2BGR)
    card = _vision.fit_long_side(grey, _vision.CARD_WIDTH_PX)
    return cv2.GaussianBlur(card, (0, 0), 1.0), person


@needs_local
@pytest.mark.parametrize("seed", [0, 1])
def test_a_sex_a_stamp_hid_is_read_off_its_place(seed: int) -> None:
    """The number cannot give the sex; its place, read with the print's darkest ink
    (placed by the labels around it where the stamp took its own), gives it."""
    from batch_ocr.engines.local._reading import _read

    card, person = _stamp_across_the_sex(seed)
    assert _read(card, rectified=True).parsed.info["sex"] == person.sex
