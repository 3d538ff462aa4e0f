"""A glare spot or an object on a card: it flags the fields it lies on, and nothing else.

What a user checks (docs/warnings-and-review.md): a reflection over the portrait or an
empty margin takes nothing from the reading and leaves the row alone; over the name it
flags the row for the name; the ``glare`` warning stays on the row either way.
"""

from __future__ import annotations

import dataclasses
import io

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from batch_ocr.engines.local import _spots  # noqa: E402
from batch_ocr.engines.local._parsed import Parsed  # noqa: E402
from batch_ocr.engines.local._reading import _Reading  # noqa: E402
from batch_ocr.engines.local._rows import Row as TextRow  # noqa: E402
from batch_ocr.run.present.review import placed_mark, review_reasons  # noqa: E402
from batch_ocr.run.present.rows import row_from_card  # noqa: E402
from tests.card_pages import make_samples, people  # noqa: E402
from tests.skips import needs_local  # noqa: E402

FRONT_CONFIDENCE = dict.fromkeys(("name", "sex", "nation", "birthday", "address", "number"),
                                 0.99)  # fmt: skip


def _mask(x0: float, y0: float, x1: float, y1: float, size: tuple[int, int] = (303, 480)
          ) -> np.ndarray:  # fmt: skip
    """A spot covering (x0, y0)-(x1, y1), as shares of a card of ``size`` (height, width)."""
    mask = np.zeros(size, bool)
    height, width = size
    mask[round(y0 * height) : round(y1 * height), round(x0 * width) : round(x1 * width)] = True
    return mask


def test_a_spot_on_the_portrait_or_a_margin_lies_on_no_field() -> None:
    assert _spots.fields_under(_mask(0.72, 0.25, 0.88, 0.55), "front") == ()
    assert _spots.fields_under(_mask(0.30, 0.0, 0.60, 0.04), "front") == ()  # above
    assert _spots.fields_under(_mask(0.95, 0.10, 0.99, 0.70), "front") == ()  # right
    assert _spots.fields_under(_mask(0.02, 0.55, 0.14, 0.95), "back") == ()
    assert _spots.fields_under(_mask(0.0, 0.0, 0.0, 0.0), "front") == ()


def test_a_spot_on_a_field_or_its_label_names_it() -> None:
    # An outline a little off shifts the card: a spot on the label may lie on the value.
    assert _spots.fields_under(_mask(0.02, 0.50, 0.10, 0.70), "front") == ("address",)
    assert _spots.fields_under(_mask(0.25, 0.09, 0.35, 0.17), "front") == ("name",)
    assert _spots.fields_under(_mask(0.40, 0.55, 0.50, 0.65), "front") == ("address",)
    assert _spots.fields_under(_mask(0.50, 0.82, 0.60, 0.90), "front") == ("number",)


def test_on_a_back_the_emblem_and_title_hold_no_field_the_period_does() -> None:
    assert _spots.fields_under(_mask(0.08, 0.10, 0.28, 0.40), "back") == ()
    assert _spots.fields_under(_mask(0.40, 0.15, 0.80, 0.45), "back") == ()
    assert _spots.fields_under(_mask(0.55, 0.84, 0.65, 0.90), "back") == ("timelimit",)


def _reading(card_frame: bool) -> _Reading:
    parsed = Parsed(side="front", info={}, validity={}, confidence=dict(FRONT_CONFIDENCE))
    return _Reading(parsed, np.full((540, 856, 3), 200, np.uint8), card_frame)


def test_without_a_spot_warning_nothing_is_looked_for_or_lowered() -> None:
    reading = _reading(card_frame=False)
    assert _spots.placed(reading, ("copy", "blur")) is reading.parsed
    assert _spots.placed(reading, ()) is reading.parsed


def test_a_side_read_without_its_card_frame_has_every_field_lowered() -> None:
    placed = _spots.placed(_reading(card_frame=False), ("glare",))
    assert set(placed.confidence.values()) == {_spots.UNDER_SPOT_CONFIDENCE}


def test_a_spot_leaves_the_fields_a_check_confirms_as_sure_as_they_were() -> None:
    """Glare over the whole of a front read without its frame: the name and address,
    which nothing checks, are lowered; the checksummed number, the birth date and sex it
    encodes read alike, and a nation no other listed one holds are not, as a character
    the spot took would fail their check. 土 (maybe 土家 with 家 washed out) is lowered."""
    info = {"name": "李小红", "sex": "女", "nation": "汉", "year": "1988", "month": "1",
            "day": "27", "address": "广东省深圳市南山区建设大道197号",
            "number": "440305198801276987"}  # fmt: skip
    parsed = Parsed(side="front", info=info, validity={}, confidence=dict(FRONT_CONFIDENCE))
    reading = _Reading(parsed, np.full((540, 856, 3), 200, np.uint8), False)
    placed = _spots.placed(reading, ("glare",))
    lowered = {key for key, score in placed.confidence.items() if score < 0.95}
    assert lowered == {"name", "address"}
    reading.parsed.info.update(nation="土", sex="男")
    placed = _spots.placed(reading, ("glare",))
    lowered = {key for key, score in placed.confidence.items() if score < 0.95}
    assert lowered == {"name", "address", "nation", "sex"}


def test_a_white_spot_on_the_name_lowers_the_name_only() -> None:
    reading = _reading(card_frame=True)
    reading.upright[55:95, 200:300] = 255  # saturated, on a card grey at 200
    placed = _spots.placed(reading, ("glare",))
    lowered = {key for key, score in placed.confidence.items() if score < 0.95}
    assert lowered == {"name"}
    # Warnings not measured (None): any spot is looked for.
    assert _spots.placed(reading, None).confidence == placed.confidence
    assert _spots.placed(reading, ("occluded",)).confidence == FRONT_CONFIDENCE


def _photo_with_glare(centre: tuple[float, float] | None, sigma_share: float) -> bytes:
    """A front on a dark desk with a reflection at ``centre`` (shares of the card)."""
    from PIL import Image

    card = np.asarray(make_samples().draw_front(people(1, seed=11)[0])[0].convert("RGB"),
                      np.float32)  # fmt: skip
    height, width = card.shape[:2]
    if centre is not None:
        yy, xx = np.mgrid[0:height, 0:width]
        cx, cy = centre[0] * width, centre[1] * height
        glare = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (sigma_share * width) ** 2))
        card = card + (255 - card) * (0.95 * glare)[..., None]
    desk = np.full((800, 1200, 3), (60, 50, 45), np.float32)
    desk[130 : 130 + height, 170 : 170 + width] = card
    buffer = io.BytesIO()
    Image.fromarray(np.clip(desk, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _row_reasons(image_bytes: bytes) -> tuple[list[str], list[str]]:
    """The warnings and review reasons of the row the offline engine makes."""
    from batch_ocr.engines.local import recognise

    result = recognise(image_bytes)
    row = row_from_card("photo.jpg", result.data, attempts=1, sha256="",
                        confidence=result.confidence)  # fmt: skip
    warnings = list(result.warnings or ())
    # As the run records it: the engine's own warnings, which it placed on the fields.
    row = dataclasses.replace(row, warnings=warnings,
                              review_reasons=placed_mark(warnings, result.confidence))
    return row.warnings, review_reasons(row, checks=[])


@needs_local
def test_glare_over_the_portrait_warns_and_flags_nothing() -> None:
    warnings, reasons = _row_reasons(_photo_with_glare((0.82, 0.35), sigma_share=0.1))
    assert warnings == ["glare"]
    assert reasons == []


@needs_local
def test_glare_over_the_name_flags_the_name() -> None:
    warnings, reasons = _row_reasons(_photo_with_glare((0.30, 0.13), sigma_share=0.07))
    assert warnings == ["glare"]
    assert "low_confidence:name" in reasons
    # The spot's reach: the row below too (sex, nation), no further.
    assert {reason for reason in reasons if reason.startswith("low_confidence:")} <= {
        "low_confidence:name", "low_confidence:sex", "low_confidence:nation"}


@needs_local
def test_a_clean_photo_warns_of_nothing_and_flags_nothing() -> None:
    assert _row_reasons(_photo_with_glare(None, sigma_share=0.07)) == ([], [])


#: The rows a front's text was read in (shares of the card): a short name, sex and nation,
#: a birth date, an address of two lines, the number (the label column included).
FRONT_ROWS = [(0.05, 0.08, 0.27, 0.19), (0.05, 0.21, 0.45, 0.31), (0.05, 0.34, 0.48, 0.42),
              (0.05, 0.44, 0.64, 0.54), (0.17, 0.54, 0.45, 0.61), (0.05, 0.81, 0.79, 0.9)]


def test_a_spot_beside_a_field_s_print_lies_on_no_field() -> None:
    """Where the rows were read, a spot over the room right of a short name, or over
    the margin above it, takes nothing off the name; one on the name's print, or just
    after its last character (a character it may have washed out), does."""
    right_of_name = _mask(0.40, 0.09, 0.50, 0.17)
    assert _spots.fields_under(right_of_name, "front") == ("name",)  # by the zone alone
    assert _spots.fields_under(right_of_name, "front", FRONT_ROWS) == ()
    assert _spots.fields_under(_mask(0.05, 0.0, 0.40, 0.095), "front", FRONT_ROWS) == ()
    assert _spots.fields_under(_mask(0.18, 0.10, 0.24, 0.17), "front", FRONT_ROWS) == ("name",)
    assert _spots.fields_under(_mask(0.28, 0.11, 0.31, 0.16), "front", FRONT_ROWS) == ("name",)


def test_a_spot_below_an_address_s_last_line_lies_on_the_address() -> None:
    """A line of an address a spot washed out whole was not read: the spot lies just
    under the last line read, and still on the address."""
    assert _spots.fields_under(_mask(0.20, 0.63, 0.35, 0.69), "front", FRONT_ROWS) == (
        "address",)


def _row(text: str, box: tuple[float, float, float, float]) -> TextRow:
    """A row of text read at ``box`` (card pixels of an 856 x 540 card)."""
    left, top, right, bottom = box
    return TextRow(text, text, top, bottom, left, right)


def _on_card(mask: np.ndarray, rows: list[TextRow], info: dict[str, str]) -> bool:
    """Whether the field of ``info`` stays as sure as it was with ``mask``'s spot."""
    side = "back" if "authority" in info else "front"
    parsed = Parsed(side=side, info=info, validity={}, confidence=dict.fromkeys(info, 0.99))
    reading = _Reading(parsed, np.full((540, 856, 3), 200, np.uint8), True, rows)
    spared = _spots.office_spared if side == "back" else _spots.address_spared
    return spared(mask, reading, next(iter(info.values())))


#: A back's office row (its label read with it) and a front's address of two lines.
OFFICE_ROW = _row("签发机关上海市公安局徐汇分局", (149, 398, 657, 441))
ADDRESS_ROWS = [_row("住址江西省南昌市红谷滩区文化路", (42, 237, 560, 301)),
                _row("724号", (135, 293, 236, 339))]


def test_a_spot_over_a_listed_office_spares_it_where_no_listed_name_lost_a_run() -> None:
    """上海市公安局徐汇分局 is listed, and is 上海市公安局徐汇区分局 with 区 washed out
    only where the spot lies before 分局: a spot over its place (上海市) cannot have made
    it, one over its end can; a name no table lists is never spared."""
    office = {"authority": "上海市公安局徐汇分局"}
    assert _on_card(_mask(0.40, 0.75, 0.50, 0.80), [OFFICE_ROW], office)
    assert not _on_card(_mask(0.66, 0.75, 0.72, 0.80), [OFFICE_ROW], office)
    # The white core above the characters (its rim may reach them: they were read).
    assert _on_card(_mask(0.63, 0.55, 0.78, 0.745), [OFFICE_ROW], office)
    wrapped = [_row("签发机关上海市公安局", (149, 398, 500, 441)), _row("徐汇分局", (330, 445, 470, 480))]
    assert not _on_card(_mask(0.40, 0.75, 0.50, 0.80), wrapped, office)
    unlisted = _row("签发机关上海市公安局徐家分局", (149, 398, 657, 441))
    assert not _on_card(_mask(0.40, 0.75, 0.50, 0.80), [unlisted],
                        {"authority": "上海市公安局徐家分局"})


def test_a_spot_over_an_address_spares_it_only_over_its_chain_of_divisions() -> None:
    """A run washed out of 江西省南昌市 breaks the chain the GB/T 2260 table names, and the
    reading shows it; one after the chain (the street), or on a line below, would not."""
    address = {"address": "江西省南昌市红谷滩区文化路724号"}
    assert _on_card(_mask(0.20, 0.45, 0.32, 0.52), ADDRESS_ROWS, address)
    assert not _on_card(_mask(0.50, 0.45, 0.60, 0.52), ADDRESS_ROWS, address)  # 文化路
    assert not _on_card(_mask(0.20, 0.45, 0.32, 0.60), ADDRESS_ROWS, address)  # and below
    # 南吕市 is no city of 江西省: the chain read is 江西省 only.
    misread = [_row("住址江西省南吕市红谷滩区文化路", (42, 237, 560, 301)), ADDRESS_ROWS[1]]
    no_chain = {"address": "江西省南吕市红谷滩区文化路724号"}
    assert _on_card(_mask(0.17, 0.45, 0.20, 0.52), misread, no_chain)  # over 江西
    assert not _on_card(_mask(0.20, 0.45, 0.32, 0.52), misread, no_chain)
