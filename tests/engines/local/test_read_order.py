"""The order a rectified card's text lines are recognised in: a back's labels and title
only when the fields read without them want them; a front's lines all read."""

from __future__ import annotations

from typing import Any

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from batch_ocr.engines.local import _ocr, _read_order, _reading  # noqa: E402
from batch_ocr.engines.local._ocr import LineRead  # noqa: E402
from batch_ocr.engines.local._parsed import Parsed  # noqa: E402
from batch_ocr.engines.local._rows import Row  # noqa: E402

CARD = (540, 856, 3)


def _box(x0: float, y0: float, x1: float, y1: float) -> Any:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


BACK = [
    (_box(260, 60, 720, 100), "中华人民共和国"),
    (_box(300, 120, 640, 190), "居民身份证"),  # larger than the lines below: put off
    (_box(190, 378, 330, 414), "签发机关"),
    (_box(340, 372, 760, 410), "杭州市公安局西湖区分局"),
    (_box(190, 438, 330, 474), "有效期限"),
    (_box(340, 432, 760, 470), "2015.03.01-2035.03.01"),
]
FRONT = [
    (_box(40, 60, 130, 100), "姓名"),
    (_box(150, 60, 260, 100), "李小红"),
    (_box(40, 120, 250, 160), "性别女"),
    (_box(330, 120, 430, 160), "民族汉"),
    (_box(40, 180, 130, 220), "出生"),
    (_box(150, 180, 420, 220), "1990年3月7日"),
    (_box(40, 250, 130, 290), "住址"),
    (_box(150, 250, 600, 290), "浙江省杭州市西湖区文三路"),
    # The address's second line lies where a back prints its labels.
    (_box(150, 300, 320, 336), "99号"),
    (_box(45, 440, 240, 476), "公民身份号码"),
    (_box(255, 436, 700, 478), "330106199003070022"),
]


def _read(monkeypatch: pytest.MonkeyPatch, card: list[tuple[Any, str]]
          ) -> tuple[Parsed, list[str]]:  # fmt: skip
    """``card`` read in steps, each crop recognised as its text; and the texts the
    recogniser was given, in order."""
    crops = [np.full((36, 100 + i, 3), 255, np.uint8) for i in range(len(card))]
    text_of = {id(crop): text for crop, (_, text) in zip(crops, card, strict=True)}
    given: list[str] = []

    def read_lines(lines: list[Any]) -> list[LineRead]:
        given.extend(text_of[id(line)] for line in lines)
        return [LineRead(text_of[id(line)], 0.99, 0.99) for line in lines]

    monkeypatch.setattr(_ocr, "read_lines", read_lines)
    boxes = [box for box, _ in card]
    _, parsed = _reading._read_in_steps(boxes, crops, CARD, card_frame=True)
    return parsed, given


def test_a_back_that_reads_right_without_its_labels_and_title_leaves_them_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed, given = _read(monkeypatch, BACK)
    assert parsed.info == {"authority": "杭州市公安局西湖区分局", "timelimit": "20150301-20350301"}
    assert all(parsed.validity.values())
    assert given == ["杭州市公安局西湖区分局", "2015.03.01-2035.03.01"]


def test_a_fronts_lines_where_a_back_prints_its_labels_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed, given = _read(monkeypatch, FRONT)
    assert parsed.info["address"] == "浙江省杭州市西湖区文三路99号"
    assert all(parsed.validity.values())
    # Its labels are read with it (its rows are grouped by all their lines' heights);
    # only the number's label alone in its box is not.
    assert {"姓名", "出生", "住址", "99号"} <= set(given)
    assert "公民身份号码" not in given


def test_a_piece_of_the_back_label_before_the_office_is_not_settled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The detector cut 签发机关 in two: 机关 went with the office's name.
    back = [*BACK[:2], (_box(190, 378, 250, 414), "签发"),
            (_box(255, 372, 760, 410), "机关杭州市公安局西湖区分局"), *BACK[4:]]  # fmt: skip
    parsed, given = _read(monkeypatch, back)
    assert "签发" in given
    assert parsed.info["authority"] == "杭州市公安局西湖区分局"


def test_an_office_wrapped_onto_two_rows_is_read_with_its_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 杭州市公安局西湖区分局 wrapped after 公安局 (BACK's office line reads it whole).
    back = [*BACK[:3], (_box(340, 372, 760, 410), "杭州市公安局"),
            (_box(340, 418, 560, 454), "西湖区分局"),
            (_box(190, 478, 330, 514), "有效期限"),
            (_box(340, 472, 760, 510), "2015.03.01-2035.03.01")]  # fmt: skip
    parsed, given = _read(monkeypatch, back)
    assert "签发机关" in given
    assert parsed.info["authority"] == "杭州市公安局西湖区分局"


def test_a_settled_back_wants_every_field_right_and_its_office_alone_on_its_row() -> None:
    rows = [Row("杭州市公安局", "杭州市公安局", 370, 410, 340, 760),
            Row("2015.03.01-2035.03.01", "2015.03.01-2035.03.01", 430, 470, 340, 760)]
    good = Parsed("back", {"authority": "杭州市公安局", "timelimit": "20150301-20350301"},
                  {"authority": True, "timelimit": True})  # fmt: skip
    assert _read_order.settled_back(good, rows)
    glued = Parsed("back", {**good.info, "authority": "机关杭州市公安局"}, good.validity)
    assert not _read_order.settled_back(glued, rows)
    wanting = Parsed("back", good.info, {"authority": True, "timelimit": False})
    assert not _read_order.settled_back(wanting, rows)
    wrapped = [rows[0], Row("西湖区分局", "西湖区分局", 396, 430, 340, 560), rows[1]]
    assert not _read_order.settled_back(good, wrapped)
    assert not _read_order.settled_back(Parsed("none"), rows)
