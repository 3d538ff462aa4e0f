"""Cards told apart by where their text lies, when no outline shows them apart."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from batch_ocr.engines.local._text_groups import text_groups  # noqa: E402


def _lines(left: float, top: float, count: int, *, gap: float, height: float = 20,
           length: float = 200) -> list:  # fmt: skip
    """``count`` level text boxes, one under the other, ``gap`` line heights apart."""
    boxes = []
    for i in range(count):
        y = top + i * height * (1 + gap)
        boxes.append(np.array([[left, y], [left + length, y], [left + length, y + height],
                               [left, y + height]], np.float32))  # fmt: skip
    return boxes


def test_two_cards_apart_on_a_desk_are_two_groups_largest_first() -> None:
    front = _lines(50, 50, 6, gap=1.0)
    back = _lines(50, 500, 4, gap=1.5)
    groups = text_groups(front + back, (900, 700, 3))
    assert len(groups) == 2
    assert groups[0][1] < 100 and groups[1][1] >= 480  # the six lines first
    assert groups[0][3] <= 50 + 6 * 40 and groups[1][0] <= 50


def test_a_cards_rows_three_line_heights_apart_stay_one_group() -> None:
    # A front's number row lies about three line heights below the address.
    rows = _lines(50, 50, 4, gap=1.0) + _lines(50, 50 + 4 * 40 + 60, 1, gap=0)
    assert len(text_groups(rows, (600, 600, 3))) == 1


def test_a_lone_line_is_no_group() -> None:
    boxes = _lines(50, 50, 5, gap=1.0) + _lines(500, 500, 1, gap=0)
    assert len(text_groups(boxes, (700, 800, 3))) == 1


def test_turned_text_groups_too() -> None:
    # A card lying on its side: its boxes run down the picture.
    tall = [np.array([[x, 50], [x + 20, 50], [x + 20, 250], [x, 250]], np.float32)
            for x in (400, 440, 480, 520)]  # fmt: skip
    groups = text_groups(_lines(20, 50, 5, gap=1.0) + tall, (400, 700, 3))
    assert len(groups) == 2


def test_lines_of_two_cards_touching_part_by_the_way_they_run() -> None:
    # One card upright, the other upside down beside it: one group of lines, two ways.
    from PIL import Image, ImageDraw

    from batch_ocr.engines.local import _ocr
    from batch_ocr.engines.local._text_groups import by_direction
    from tests.card_pages import make_samples

    font = make_samples().card_font(28)
    half = Image.new("RGB", (600, 400), (245, 245, 245))
    draw = ImageDraw.Draw(half)
    for i, text in enumerate(("签发机关北京市公安局", "有效期限2017.11.03-2027.11.03",
                              "中华人民共和国居民身份证", "住址北京市朝阳区东风路")):  # fmt: skip
        draw.text((30, 40 + 80 * i), text, font=font, fill=(30, 30, 30))
    picture = Image.new("RGB", (1200, 400), (245, 245, 245))
    picture.paste(half, (0, 0))
    picture.paste(half.rotate(180), (600, 0))
    image = np.ascontiguousarray(np.asarray(picture)[:, :, ::-1])
    boxes = _ocr.detect(image, long_side_px=1200)
    parts = by_direction(image, boxes)
    assert len(parts) == 2
    sides = sorted(float(np.concatenate(part)[:, 0].mean()) for part in parts)
    assert sides[0] < 600 < sides[1]  # each part is one card's lines


def test_one_card_beside_a_sheet_of_print_is_not_read_again(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:  # fmt: skip
    # A front read whole beside a sheet of print: two groups of lines, but no sign of a
    # back (none of its labels, every line running one way): no group is read again.
    from batch_ocr.engines.local import _second_side
    from batch_ocr.engines.local._parsed import Parsed
    from batch_ocr.engines.local._reading import _Reading
    from batch_ocr.engines.local._rows import Row

    def _no_read(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a group was read again")

    monkeypatch.setattr(_second_side, "_read", _no_read)
    monkeypatch.setattr(_second_side, "by_direction", lambda image, boxes: [list(boxes)])
    rows = [Row(text, text, 10.0 * i, 10.0 * i + 8, 0.0, 100.0)
            for i, text in enumerate(("姓名王建", "性别男民族汉", "住址北京市朝阳区"))]  # fmt: skip
    parsed = Parsed("front", {"name": "王建"}, {"name": True})
    reading = _Reading(parsed, np.zeros((900, 700, 3), np.uint8), False, rows,
                       boxes=_lines(50, 50, 6, gap=1.0) + _lines(50, 500, 5, gap=1.0))  # fmt: skip
    assert _second_side.cards_by_text(None, reading, ()) is None


def test_a_side_read_better_from_its_own_group_replaces_the_picture_read_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # A back beside a sheet of a form: read whole, the form's lines joined the back's
    # rows and became its office; its group read alone gives both fields as printed.
    from batch_ocr.engines.local import _recognise, _second_side
    from batch_ocr.engines.local._parsed import Parsed
    from batch_ocr.engines.local._reading import _Reading

    def reading(info: dict[str, str], valid: bool) -> _Reading:
        parsed = Parsed("back", info, {"authority": valid, "timelimit": valid})
        return _Reading(parsed, np.zeros((900, 1200, 3), np.uint8), False)

    whole = reading({"authority": "证中国日理务名字请业地请办名办", "timelimit": ""}, False)
    group = reading({"authority": "厦门市公安局思明分局", "timelimit": "20060103-20110103"}, True)
    monkeypatch.setattr(_second_side, "sides_by_text", lambda source, read: {"back": group})
    kept, both = _recognise._groups_or_full_size(np.zeros((900, 1200, 3), np.uint8), whole, ())
    assert both is None
    assert kept.parsed.info["authority"] == "厦门市公安局思明分局"
