"""A second look at the rows the recogniser was unsure of (``_second_look``).

What a user checks: a field read right but doubted by one look is accepted when a second
look at its row, with the print's darkest ink alone, reads the same text surely; a
second look that reads otherwise, or is unsure itself, leaves the field flagged; the
text given never changes.
"""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from batch_ocr.engines.local import _ocr, _second_look  # noqa: E402
from batch_ocr.engines.local._fields import parse  # noqa: E402
from batch_ocr.engines.local._ocr import LineRead  # noqa: E402
from batch_ocr.engines.local._reading import _Reading  # noqa: E402
from batch_ocr.engines.local._rows import TextLine, group_rows  # noqa: E402

ADDRESS = "湖北省武汉市洪山区解放路892号"


def _line(text: str, top: float, doubted: str = "", p: float = 0.44) -> TextLine:
    chars = tuple((char, p if char == doubted else 0.999) for char in text)
    least = min(q for _, q in chars)
    return TextLine(text, 0.98, 150, top, 560, top + 40, least=least, chars=chars)


def _reading(doubted: str) -> _Reading:
    lines = [_line("姓名李小红", 40), _line("性别女民族汉", 110),
             _line("出生1970年1月2日", 180), _line(f"住址{ADDRESS}", 250, doubted),
             _line("公民身份号码420111197001020025", 450)]  # fmt: skip
    rows = group_rows(lines)
    return _Reading(parse(rows), np.full((540, 856, 3), 230, np.uint8), True, rows)


def _second_reads(monkeypatch: pytest.MonkeyPatch, *reads: LineRead) -> list[int]:
    """Make the recogniser give ``reads`` in turn; the list counts its calls."""
    calls: list[int] = []

    def read_lines(crops: list[np.ndarray]) -> list[LineRead]:
        calls.append(len(crops))
        return [reads[min(len(calls), len(reads)) - 1]]

    monkeypatch.setattr(_ocr, "read_lines", read_lines)
    return calls


def _read(text: str, p: float = 0.997) -> LineRead:
    return LineRead(text, p, p, tuple((char, p) for char in text))


def test_a_doubted_row_read_alike_and_surely_has_its_field_accepted(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    reading = _reading(doubted="解")
    assert reading.parsed.confidence["address"] < 0.95
    calls = _second_reads(monkeypatch, _read(ADDRESS))  # its label not read: alike
    again = _second_look.surer(reading)
    assert again.parsed.info == reading.parsed.info
    assert again.parsed.confidence["address"] >= 0.95
    assert calls == [1]  # the doubted row only


@pytest.mark.parametrize(
    "second",
    [_read("湖北省武汉市洪山区鲜放路892号"),  # read otherwise
     _read(ADDRESS, p=0.54),  # alike, but unsure too: two looks may share a misread
     _read(f"住址{ADDRESS}室")],  # more than a label
)  # fmt: skip
def test_a_second_look_read_otherwise_or_unsurely_leaves_the_field_flagged(
        monkeypatch: pytest.MonkeyPatch, second: LineRead) -> None:  # fmt: skip
    reading = _reading(doubted="解")
    _second_reads(monkeypatch, second)
    again = _second_look.surer(reading)
    assert again.parsed.info == reading.parsed.info
    assert again.parsed.confidence["address"] == reading.parsed.confidence["address"]


def test_a_card_read_surely_is_not_looked_at_again(monkeypatch: pytest.MonkeyPatch) -> None:
    reading = _reading(doubted="")
    calls = _second_reads(monkeypatch, _read(ADDRESS))
    assert _second_look.surer(reading) is reading
    assert calls == []


def test_a_card_whose_doubted_field_fails_its_rule_is_not_looked_at_again(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The number's row unsure and failing its check: a second look cannot make it pass,
    so none is paid for."""
    lines = [_line("姓名李小红", 40), _line("性别女民族汉", 110), _line("出生1970年1月2日", 180),
             _line(f"住址{ADDRESS}", 250), _line("公民身份号码420111197001020026", 450, "6")]
    rows = group_rows(lines)
    reading = _Reading(parse(rows), np.full((540, 856, 3), 230, np.uint8), True, rows)
    assert not reading.parsed.validity["number"]
    calls = _second_reads(monkeypatch, _read("公民身份号码420111197001020026"))
    assert _second_look.surer(reading) is reading
    assert calls == []
