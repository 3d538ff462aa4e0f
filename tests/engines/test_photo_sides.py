"""Phone photos of a front and a back: both sides come back, or the row says one is missing.

Each photo is drawn here (cards from ``samples/make_samples.py`` on a plain desk, each at
its own tilt, as ``tests/benchmarks/office_sets.py`` lays them), small enough to stay in
the fast suite.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
from typing import Any

import pytest

from tests.card_pages import field_forms, make_samples, module_at
from tests.skips import needs_local

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")

pytestmark = needs_local

#: The desk: a pale green, as plain as a table cloth (its colour is close to a card's).
DESK_BGR = (190, 222, 214)
PHOTO_SIZE = (1400, 1050)  # width, height: a phone photo scaled down


def _office_sets() -> Any:
    from tests.card_pages import REPO

    return module_at("office_sets", REPO / "tests" / "benchmarks" / "office_sets.py")


def _photo(cards: list[tuple[Any, tuple[float, float], float, tuple[float, float]]],
           *, shadow: float = 0.0) -> bytes:  # fmt: skip
    """A JPEG photo of ``cards``: each (a PIL card, its centre in shares of the photo,
    its spin in degrees, its tilt about x and y in degrees), seen in perspective; a
    soft shadow ``shadow`` deep across its top left corner (the phone's, or a hand's)."""
    sets = _office_sets()
    width, height = PHOTO_SIZE
    rng = np.random.default_rng(5)
    desk = np.clip(np.array(DESK_BGR, float) + rng.normal(0, 4, (height, width, 3)), 0, 255)
    photo = desk.astype(np.uint8)
    for card, (cx, cy), spin, (tilt_x, tilt_y) in cards:
        card_w, card_h = card.size
        corners = np.array([[-card_w / 2, -card_h / 2], [card_w / 2, -card_h / 2],
                            [card_w / 2, card_h / 2], [-card_w / 2, card_h / 2]])  # fmt: skip
        target = sets._project(corners, tilt_x, tilt_y, spin, 1.3 * width)
        target = (target + [cx * width, cy * height]).astype(np.float32)
        source = np.array([[0, 0], [card_w, 0], [card_w, card_h], [0, card_h]], np.float32)
        matrix = cv2.getPerspectiveTransform(source, target)
        bgr = np.asarray(card.convert("RGB"))[:, :, ::-1]
        warped = cv2.warpPerspective(bgr, matrix, (width, height))
        mask = cv2.warpPerspective(sets._rounded(card_w, card_h), matrix, (width, height))
        photo = np.where(mask[..., None] > 127, warped, photo)
        # The card's edge: its thickness in the light, a thin grey line all round.
        edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((5, 5), np.uint8)) > 127
        photo[edge] = (photo[edge] * 0.4).astype(np.uint8)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = 1 - shadow / (1 + np.exp((xx + yy - 0.6 * height) / (0.03 * width)))
    photo = np.clip(photo * shade[..., None], 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    return encoded.tobytes()


def _person(seed: int) -> Any:
    return make_samples().make_person(random.Random(seed))


def _sides(person: Any, width: int) -> tuple[Any, Any]:
    samples = make_samples()
    return samples.draw_front(person, width=width)[0], samples.draw_back(person, width=width)


def _truth(person: Any) -> dict[str, str]:
    samples = make_samples()
    return {**samples.side_truth(person, "front"), **samples.side_truth(person, "back")}


def _touching(person: Any) -> bytes:
    """A front upside down and a back laid end to end, each at its own tilt, under a
    shadow that leaves the desk's border no one colour."""
    front, back = _sides(person, 650)
    return _photo([(front, (0.285, 0.55), 190, (17, 1)), (back, (0.725, 0.46), 4, (-6, 10))],
                  shadow=0.5)


def test_a_front_and_a_back_touching_at_their_own_tilts_give_both_sides() -> None:
    """Two cards laid end to end, the front upside down and turned against the back:
    one blob in every mask, of no card's and no pair's proportions. Both sides come
    back in one row, every field as printed."""
    from batch_ocr.engines.local import recognise

    person = _person(51)
    result = recognise(_touching(person))
    assert result.data.side == "both"
    got = field_forms(result.data)
    truth = _truth(person)
    assert {key: got[key] for key in truth} == truth


def test_two_cards_touching_at_their_own_tilts_are_found_as_two() -> None:
    """The card search alone (no reading): the blob of two touching cards holds each
    card's inside as a hole of its own, and each is found as a card."""
    from batch_ocr.vision import layout

    image = cv2.imdecode(np.frombuffer(_touching(_person(51)), np.uint8), cv2.IMREAD_COLOR)
    cards = layout.page_cards(image)
    assert len(cards) == 2
    centres = sorted(float(card.quad[:, 0].mean()) for card in cards)
    assert centres[0] < PHOTO_SIZE[0] / 2 < centres[1]


def _reading(side: str, info: dict[str, str], texts: tuple[str, ...] = ()) -> Any:
    """A reading of ``info`` as ``side``, its rows ``texts``, each field checked as the
    engine checks it."""
    from batch_ocr.engines.local._parsed import Parsed
    from batch_ocr.engines.local._reading import _Reading
    from batch_ocr.engines.local._rows import Row

    validity = {key: bool(value) and not value.startswith("66") for key, value in info.items()}
    rows = [Row(text=text, value_text=text, left=0, top=40 * i, right=400, bottom=40 * i + 30)
            for i, text in enumerate(texts)]  # fmt: skip
    return _Reading(Parsed(side, info, validity), np.zeros((540, 856, 3), np.uint8),
                    card_frame=True, rows=rows)  # fmt: skip


def _sides_beside(reading: Any) -> Any:
    """What ``_second_side.where_finders_differ`` gives for a blank 1200x900 photo whose
    card, read as ``reading``, lies at its top left."""
    from batch_ocr.engines.local import _second_side

    quad = np.array([[100, 100], [500, 100], [500, 350], [100, 350]], np.float32)
    return _second_side.where_finders_differ(np.zeros((900, 1200, 3), np.uint8), [], reading,
                                             quad, None)  # fmt: skip


BANK_CARD_AS_A_FRONT = {"name": "借记卡", "number": "6674723604927326"}


def test_a_bank_card_read_as_a_front_is_not_kept_beside_the_back_found_next_to_it(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The outline read was a bank card's (its long number makes its text parse as a
    front) and the ID card's back lies beside it: the image's row is the back alone,
    never a card merged of the bank card's number and the back."""
    from batch_ocr.engines.local import _page, _second_side
    from batch_ocr.run.cards import CardRead, assemble

    back = _page.card_read(_reading("back", {"authority": "厦门市公安局思明分局",
                                             "timelimit": "20190126-20390126"}).parsed)
    looked_for: list[Any] = []

    def beside(image: Any, quad: Any, reading: Any, warnings: Any) -> CardRead:
        looked_for.append(reading)
        return back

    monkeypatch.setattr(_second_side, "beside_the_card", beside)
    bank = _reading("front", BANK_CARD_AS_A_FRONT, ("示例银行", "借记卡", "6674723604927326"))
    sides = _sides_beside(bank)
    assert sides is not None and looked_for
    (row,) = assemble(sides)
    assert row.data.side == "back"
    assert not row.data.info.number and not row.data.info.name


def test_a_front_alone_is_read_as_a_front() -> None:
    from batch_ocr.engines.local import recognise

    person = _person(15)
    front, _ = _sides(person, 760)
    result = recognise(_photo([(front, (0.5, 0.5), -97, (9, 1))]))
    assert result.data.side == "front"
    assert not (result.data.info.authority or result.data.info.timelimit)
    got = field_forms(result.data)
    truth = make_samples().side_truth(person, "front")
    assert {key: got[key] for key in truth} == truth


def _form_beside(card_share: float) -> tuple[Any, Any]:
    """A 2000x1500 photo of a card ``card_share`` of its width in the middle and a form's
    lines of print in the margin to its left; and the card's corners."""
    photo = np.full((1500, 2000, 3), DESK_BGR, np.uint8)
    width, height = card_share * 2000, card_share * 2000 * 54 / 85.6
    x0, y0 = 1000 - width / 2, 750 - height / 2
    quad = np.array([[x0, y0], [x0 + width, y0], [x0 + width, y0 + height],
                     [x0, y0 + height]], np.float32)  # fmt: skip
    cv2.fillConvexPoly(photo, quad.astype(np.int32), (235, 235, 235))
    for row in range(8):
        cv2.putText(photo, "NAME DATE 2024", (20, 200 + 60 * row), cv2.FONT_HERSHEY_SIMPLEX,
                    0.9, (40, 40, 40), 2)  # fmt: skip
    return photo, quad


@pytest.mark.parametrize(("card_share", "looked"), [(0.62, False), (0.4, True)])
def test_print_beside_a_card_that_leaves_no_room_for_another_is_not_detected(
        monkeypatch: pytest.MonkeyPatch, card_share: float, looked: bool) -> None:  # fmt: skip
    """A card filling most of the photo, a form's print in its margin: no card of its
    size fits beside it, so no other side is looked for there (no text detection); a
    smaller card leaves room, and the print beside it is looked at."""
    from batch_ocr.engines.local import _ocr, _second_side

    detected: list[Any] = []
    monkeypatch.setattr(_ocr, "detect", lambda image, **kwargs: detected.append(image) or [])
    photo, quad = _form_beside(card_share)
    front = _reading("front", {"name": "何涛"}, ("姓名何涛",))
    assert _second_side.beside_the_card(photo, quad, front, None) is None
    assert bool(detected) is looked


def test_a_second_side_seen_and_not_read_makes_the_row_say_so(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Beside the front read, a block of print shows a back's labels, and its fields
    cannot be read (too small, blurred): the front's row carries ``side_unread``, so a
    photo that lost a side never passes for the whole card."""
    from batch_ocr.engines.local import _glance, _ocr, _second_side
    from batch_ocr.engines.local._parsed import Parsed
    from batch_ocr.run.cards import SIDE_UNREAD, assemble
    from batch_ocr.run.present.checks import check_row
    from batch_ocr.run.present.review import with_review
    from batch_ocr.run.present.rows import row_from_card

    faint = _reading("none", {}, ("中华人民共和国", "居民身份证", "签发机关", "有效期限"))
    faint.parsed = Parsed(side="none", validity={"name": False})
    monkeypatch.setattr(_second_side, "_holds_print", lambda strokes: True)
    monkeypatch.setattr(_second_side._text_cards, "print_blocks",
                        lambda rest, card_long, strokes=None: [(700, 100, 1100, 350)])  # fmt: skip
    monkeypatch.setattr(_second_side, "_read", lambda image, **kwargs: faint)
    # Four text lines, one of them an ID side's at a glance.
    monkeypatch.setattr(_ocr, "detect", lambda image, **kwargs: [np.zeros((4, 2), np.float32)] * 4)
    monkeypatch.setattr(_glance, "shows_id_text", lambda image, boxes: True)
    front = _reading("front", {"name": "何涛", "sex": "男", "nation": "汉", "birthday": "1",
                               "address": "广东省深圳市南山区长江路53号",
                               "number": "440305200907188491"},
                     ("姓名何涛", "性别男民族汉", "公民身份号码440305200907188491"))  # fmt: skip
    front.parsed.info.update(year="2009", month="7", day="18")
    sides = _sides_beside(front)
    assert sides is not None
    (row,) = assemble(sides)
    assert row.data.side == "front"
    assert SIDE_UNREAD in row.warnings
    written = row_from_card("photo.jpg", row.data, attempts=1, sha256="",
                            confidence=row.confidence)  # fmt: skip
    written = dataclasses.replace(written, warnings=list(row.warnings))
    checks = check_row(written, as_of=datetime.date(2026, 1, 1))
    assert with_review(written, checks=checks).needs_review


@pytest.mark.parametrize(("text", "shows"), [
    ("公民身份号码440305200907188491", True),
    ("3201061988072519481X", True),  # 19 characters, as printed
    ("有效期限2014.06.05-长期", True),
    ("签发机关南京市公安局鼓楼分局", True),
    ("中华人民共和国", True),
    ("6674723604927326", False),  # a bank card's number
    ("EXAMPLEBANK借记卡", False),
    ("姓签姓名名请姓业地表话期", False),  # a form's line: one short label is no ID side
])  # fmt: skip
def test_a_glance_at_a_line_tells_an_id_side_from_a_bank_card_or_a_form(text: str,
                                                                        shows: bool) -> None:  # fmt: skip
    from batch_ocr.engines.local._glance import strong_id_text

    assert strong_id_text(text) is shows


def test_a_side_the_blocks_of_print_missed_is_read_from_the_lines_beside_the_card(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Beside the front read lie a bank card (a block of print, no ID side at a glance)
    and a back in a shadow on a busy desk, whose print the block search joined into the
    desk's: the text lines beside the card are read too, group by group, and the back
    comes back beside the front instead of being lost without a word."""
    from batch_ocr.engines.local import _glance, _ocr, _second_side
    from batch_ocr.run.cards import assemble

    back = _reading("back", {"authority": "上海市公安局徐汇分局",
                             "timelimit": "20131223-20181223"},
                    ("中华人民共和国", "居民身份证", "签发机关上海市公安局徐汇分局"))  # fmt: skip
    monkeypatch.setattr(_second_side, "_holds_print", lambda strokes: True)
    monkeypatch.setattr(_second_side._text_cards, "print_blocks",
                        lambda rest, card_long, strokes=None: [(700, 100, 1100, 350)])  # fmt: skip
    glanced: list[tuple[int, ...]] = []

    def glance(image: Any, boxes: Any) -> bool:
        glanced.append(image.shape)
        return len(glanced) > 1  # the bank card's block first: no ID text on it

    monkeypatch.setattr(_glance, "shows_id_text", glance)
    lines = [np.array([[x, y], [x + 300, y], [x + 300, y + 30], [x, y + 30]], np.float32)
             for x, y in ((200, 500), (200, 560), (200, 620), (200, 680))]  # fmt: skip
    monkeypatch.setattr(_ocr, "detect", lambda image, **kwargs: lines)
    monkeypatch.setattr(_second_side, "_read", lambda image, **kwargs: back)
    front = _reading("front", {"name": "唐丽静", "sex": "男", "nation": "汉", "birthday": "1",
                               "address": "上海市徐汇区文化路594号",
                               "number": "310104201109124117"},
                     ("姓名唐丽静", "性别男民族汉", "公民身份号码310104201109124117"))  # fmt: skip
    front.parsed.info.update(year="2011", month="9", day="12")
    sides = _sides_beside(front)
    assert sides is not None and len(glanced) == 2
    (row,) = assemble(sides)
    assert row.data.side == "both"
    assert row.data.info.authority == "上海市公安局徐汇分局"


def test_the_card_found_is_read_where_the_outline_read_jumbled_its_lines(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The outline first read took a stretch of desk (its warp ran the back's lines into
    one row: the title taken for the office); the page search found the card itself,
    which reads the same side with every field passing: that reading is the row."""
    from batch_ocr.engines.local import _second_side
    from batch_ocr.run.cards import assemble

    jumbled = _reading("back", {"authority": "中华人民共和国", "timelimit": "20140605-长期"},
                       ("有效期限2014·06·05-长期签发机关厦门市公安局思明分局居民身份证中华人民共和国",))
    jumbled.parsed.validity["authority"] = False
    card = _reading("back", {"authority": "厦门市公安局思明分局", "timelimit": "20140605-长期"},
                    ("中华人民共和国", "签发机关厦门市公安局思明分局", "有效期限2014·06·05-长期"))
    monkeypatch.setattr(_second_side, "_read_card", lambda image: card)
    monkeypatch.setattr(_second_side, "beside_the_card", lambda *args: None)
    outline = np.array([[55, 0], [950, 0], [1122, 1756], [26, 1756]], np.float32)
    found = np.array([[220, 764], [910, 687], [998, 1102], [286, 1212]], np.float32)
    from batch_ocr.vision.layout import FoundCard

    sides = _second_side.where_finders_differ(np.zeros((1760, 1320, 3), np.uint8),
                                              [FoundCard(found)], jumbled, outline, None)
    assert sides is not None
    (row,) = assemble(sides)
    assert row.data.info.authority == "厦门市公安局思明分局"
