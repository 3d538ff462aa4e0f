"""Reading the text of one picture: detect, orient, recognise, parse.

``_read`` is one look at an image (a rectified card, or a whole photo): the lines are
detected, the picture turned upright by their vote, recognised, placed in rows and
parsed. ``_read_card`` looks at a rectified card cheaply first and again sharper when
a field was doubtful.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batch_ocr.engines.local import _level, _read_order
from batch_ocr.engines.local._back import lawful_period
from batch_ocr.engines.local._bands import (
    FRONT_REREADS,
    _read_authority_band,
    _read_doubted_office,
    _read_number_band,
    number_band_pieces,
    number_band_reads,
)
from batch_ocr.engines.local._fields import parse
from batch_ocr.engines.local._labels import (
    _LONG_DIGITS_RE,
    _NUMBER_AS_PRINTED_RE,
    _NUMBER_PIECE_RE,
    digits,
)
from batch_ocr.engines.local._parsed import Parsed
from batch_ocr.engines.local._period_band import read_period_band
from batch_ocr.engines.local._read_order import LABEL_COLUMN_RIGHT, LABELLED_ROWS_BOTTOM
from batch_ocr.engines.local._rows import Row as TextRow
from batch_ocr.engines.local._rows import TextLine, group_rows
from batch_ocr.engines.local._sex_band import read_sex_band, sex_lost
from batch_ocr.run.present.stamps import strip_stamps_of_lines

if TYPE_CHECKING:
    import numpy as np

    from batch_ocr.engines.local._ocr import LineRead

#: Long side the detector sees a rectified card at (text is then ~17-24 px tall).
CARD_DET_LONG_SIDE_PX = 512
#: ... and again at this size when a field read at the first did not pass its check
#: (small or stamped text): the detector's cost grows with the pixels, so the first
#: look is cheap and only doubtful cards pay for the second (docs/offline-engine.md).
CARD_DET_RETRY_LONG_SIDE_PX = 640
#: Long side the detector sees a whole photo at, when no card outline was found. At
#: 960 a worker's peak memory reached 460 MB (the detector's buffers grow with the
#: pixels); at 720 it stays near 370 MB, with the same fields on every harness set.
PHOTO_DET_LONG_SIDE_PX = 720
#: A picture without card outlines is first read at most this long; a longer one is a
#: page (an A4 copy), read again at ``PAGE_LONG_SIDE_PX`` when that first look left
#: fields unread: on an A4 page at 1280 px a card's text is ~8 px tall, too small to read.
WHOLE_PICTURE_LONG_SIDE_PX = 1280
PAGE_LONG_SIDE_PX = 2000
#: Lines the recogniser is less sure of than this are dropped, as RapidOCR does.
MIN_LINE_SCORE = 0.5
#: Where the gap between labels and values is looked for, as fractions of the width.
LABEL_CUT_RANGE = (0.125, 0.195)
#: Columns within this share of the line's ink range above its least inked are blank.
GAP_INK_SHARE = 0.1
#: Text tilted more than this on a "rectified" card means the outline was wrong.
MAX_FRAME_TILT_DEG = 2.5
#: A card found on a page by its print alone (``layout.FoundCard.by_print``) is cut out
#: turned as its block of print lies, which may be a few degrees off its lines (the
#: portrait and the emblem shape the block: 2.5-3.6 degrees on the harness's copy
#: pages): its text, sloping by up to this much, is levelled and the cut kept as the
#: card's frame.
MAX_PRINT_FRAME_TILT_DEG = 8.0
#: A line lower than this share of the ID number's line, and not surely read Chinese,
#: is another script's (bilingual cards): labels are ~0.85 of it, those lines ~0.7.
OTHER_SCRIPT_MAX_HEIGHT = 0.8
OTHER_SCRIPT_MAX_SCORE = 0.9
_CHINESE_OR_DIGIT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff0-9]")


@dataclass
class _Reading:
    parsed: Parsed
    upright: np.ndarray  # the image the text was read on, turned upright
    card_frame: bool  # whether ``upright`` is the card itself, edge to edge
    rows: list[TextRow] = field(default_factory=list)  # the text the fields came from
    #: Quarter turns clockwise from the image given to ``upright``.
    turns: int = 0
    #: The text detector's boxes (4x2, ``upright``'s pixels): where text lies, read or not.
    boxes: list[np.ndarray] = field(default_factory=list)
    #: The scale the detector saw ``upright`` at (1: its own pixels).
    det_scale: float = 1.0


def _is_tall(box: np.ndarray) -> bool:
    """Whether a text box is much taller than wide (text running up or down)."""
    xs, ys = box[:, 0], box[:, 1]
    return float(ys.max() - ys.min()) > 1.5 * float(xs.max() - xs.min())


def _split_labels(image: np.ndarray, boxes: list[np.ndarray]) -> list[np.ndarray]:
    """Cut boxes that run from the label column into the values, at the gap between.

    On a blurred or small card the detector merges ``姓名`` and the name into one line,
    and the recogniser then misreads the label into the name (``书诸葛霞国``). On a
    rectified card the label column is known, so the line is cut where the ink is
    thinnest between the labels' end and the values' start.
    """
    import cv2
    import numpy as np

    height, width = image.shape[:2]
    lo, hi = int(LABEL_CUT_RANGE[0] * width), int(LABEL_CUT_RANGE[1] * width)
    gray: np.ndarray | None = None
    out: list[np.ndarray] = []
    for box in boxes:
        xs, ys = box[:, 0], box[:, 1]
        x0, x1 = float(xs.min()), float(xs.max())
        y0, y1 = float(ys.min()), float(ys.max())
        # Only the labelled rows: the number's label is long and sits lower down.
        if not (
            x0 < lo and x1 > hi + 0.04 * width and (y0 + y1) / 2 < LABELLED_ROWS_BOTTOM * height
        ):
            out.append(box)
            continue
        if gray is None:
            gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        band = gray[max(0, int(y0)) : int(y1) + 1, lo:hi].astype(np.float32)
        if band.size == 0:
            out.append(box)
            continue
        cut = float(lo + _widest_gap(band))
        out.append(np.array([[x0, y0], [cut, y0], [cut, y1], [x0, y1]], dtype=np.float32))
        out.append(np.array([[cut, y0], [x1, y0], [x1, y1], [cut, y1]], dtype=np.float32))
    return out


def _widest_gap(band: np.ndarray) -> float:
    """Where in ``band`` (grey, a line's strip across the label/value gap) to cut: in
    the widest run of columns with the least ink, at its palest column (the cut made
    before this run was looked for, kept where it lay in it), else at its middle.

    Ink is each column's darkness below its own lightest pixel, not below white: a
    shadow darkens the card's side under the labels, and measured against white the
    gap there looked darker than the gap between a name's first two characters (the
    cut then took ``孙`` of ``孙宇磊`` into the label). The label/value gap is the widest
    blank on the line; a gap between two characters is narrower.
    """
    import numpy as np

    palest = int(np.argmin((255.0 - band).mean(axis=0)))
    ink = (band.max(axis=0) - band).mean(axis=0)
    least = float(ink.min())
    blank = ink <= least + GAP_INK_SHARE * (float(ink.max()) - least)
    best_start, best_width, start = 0, 0, None
    for column, is_blank in enumerate([*blank.tolist(), False]):
        if is_blank and start is None:
            start = column
        elif not is_blank and start is not None:
            if column - start > best_width:
                best_start, best_width = start, column - start
            start = None
    if best_start <= palest < best_start + best_width:
        return float(palest)
    return best_start + best_width / 2


def _read_card(card: np.ndarray, *, by_print: bool = False) -> _Reading:
    """Read a rectified card: a cheap look, and a sharper one if a field was doubtful.
    ``by_print``: the card was cut out where its print lies (its text is levelled)."""
    reading = _read(card, rectified=True, by_print=by_print)
    if reading.parsed.side == "none" or all(reading.parsed.validity.values()):
        return reading
    if _number_as_printed(reading) or _date_as_printed(reading):
        return reading
    again = _read(card, rectified=True, det_side=CARD_DET_RETRY_LONG_SIDE_PX,
                  by_print=by_print)  # fmt: skip
    return again if _valid_fields(again) > _valid_fields(reading) else reading


def _number_as_printed(reading: _Reading) -> bool:
    """Whether the number alone failed, and the place the card prints it reads the same
    17, 18 or 19 characters: the card carries a number that fails its check character
    or its length (a specimen, a misprint), and a sharper look would read it the same
    (it did on every such card of the harness, at twice the cost: eight looks of eight
    on 17 and 19 printed, tuning seeds). The number stays marked invalid."""
    parsed = reading.parsed
    doubtful = [key for key, ok in parsed.validity.items() if not ok]
    number = parsed.info.get("number", "")
    if doubtful != ["number"] or not reading.card_frame:
        return False
    if not _NUMBER_AS_PRINTED_RE.fullmatch(number):
        return False
    reads = number_band_reads if len(number) == 18 else number_band_pieces
    return any(read == number for read, _, _ in reads(reading.upright))


def _date_as_printed(reading: _Reading) -> bool:
    """Whether the birth date and the number alone failed, the number was read whole (17
    digits and a check character) and the birth date read is the one it encodes, to the
    digit: the card prints a date that does not exist (31 April), which fails the number
    too, and a sharper look reads it the same (on every such card of the harness's copy
    pages and phone photos, tuning seeds). Both stay marked invalid."""
    parsed = reading.parsed
    doubtful = sorted(key for key, ok in parsed.validity.items() if not ok)
    number = parsed.info.get("number", "")
    if doubtful != ["birthday", "number"] or not _WHOLE_NUMBER.fullmatch(number):
        return False
    year, month, day = (parsed.info.get(key, "") for key in ("year", "month", "day"))
    return bool(year and month and day) and (
        f"{year:0>4}{month:0>2}{day:0>2}" == number[6:14])


#: An ID number read whole: 17 digits and a check character.
_WHOLE_NUMBER = re.compile(r"[0-9]{17}[0-9X]")


def _valid_fields(reading: _Reading) -> int:
    return -1 if reading.parsed.side == "none" else sum(reading.parsed.validity.values())


def _read(image: np.ndarray, *, rectified: bool, det_side: int | None = None,
          found: list[np.ndarray] | None = None, by_print: bool = False) -> _Reading:
    """Detect, orient, recognise and parse the text of ``image``; ``found``: its text
    lines (4x2, ``image``'s pixels) where they were detected already, at the scale
    ``det_side`` would detect them (a part of a page read whole): not detected again.
    ``by_print``: a rectified card cut out where its print lies, whose text is levelled
    (``MAX_PRINT_FRAME_TILT_DEG``)."""
    import numpy as np

    from batch_ocr.engines.local import _ocr, _orientation
    from batch_ocr.vision import photo as _vision

    if det_side is None:
        det_side = CARD_DET_LONG_SIDE_PX if rectified else PHOTO_DET_LONG_SIDE_PX
    # The text is read without a red stamp's ink (docs/documents.md); ``upright``, what
    # the portrait is cut from, keeps its colours.
    as_printed, image = image, _vision.drop_out_red_ink(image)
    dropped_out, turns = image is not as_printed, 0
    boxes = _ocr.detect(image, long_side_px=det_side) if found is None else found
    if not rectified and boxes:
        # Text running up or down the picture: the card lies on its side. Turn it a
        # quarter clockwise; if that was the wrong way, the 180° vote below fixes it.
        tall = sum(1 for b in boxes if _is_tall(b))
        if tall > len(boxes) / 2:
            image, turns = _ocr.rotate_image(image, 1), 1
            boxes = _ocr.detect(image, long_side_px=det_side)
    crops = [_ocr.crop_line(image, box) for box in boxes]
    height, width = image.shape[:2]
    if _orientation.upside_down(crops):
        image, turns = _ocr.rotate_image(image, 2), turns + 2
        boxes = [(np.array([width - 1, height - 1], dtype=np.float32) - b)[[2, 3, 0, 1]]
                 for b in boxes]  # fmt: skip
        crops = [_ocr.rotate_image(c, 2) for c in crops]
    angle = _level.text_angle(boxes)
    levelling = None
    if rectified and by_print and MAX_FRAME_TILT_DEG <= abs(angle) <= MAX_PRINT_FRAME_TILT_DEG:
        levelling = _level.rotation(angle, (width / 2, height / 2))
        image, boxes = _level.turned(image, boxes, levelling)
        crops, angle = [_ocr.crop_line(image, box) for box in boxes], 0.0
    # A rectified card has level text; tilted text means the outline found was not the
    # card's (a busy background), so its frame is not trusted for labels or portrait.
    card_frame = rectified and abs(angle) < MAX_FRAME_TILT_DEG
    if card_frame:
        # A box ``_split_labels`` leaves whole (the same object) keeps its crop, unless
        # the card was turned (then each line is cut again off the turned card).
        kept = {} if turns >= 2 else dict(zip(map(id, boxes), crops, strict=True))
        boxes = _split_labels(image, boxes)
        crops = [kept[id(box)] if id(box) in kept else _ocr.crop_line(image, box)
                 for box in boxes]  # fmt: skip
    label_column = LABEL_COLUMN_RIGHT * image.shape[1] if card_frame else None
    lines, parsed = _read_in_steps(boxes, crops, image.shape, card_frame=card_frame)
    if card_frame:
        lines, parsed = _read_lost_fields(image, lines, parsed, label_column)
    rows = group_rows(lines, label_column_right=label_column)
    upright = _ocr.rotate_image(as_printed, turns) if dropped_out else image
    if dropped_out and levelling is not None:
        upright, _ = _level.turned(upright, [], levelling)
    det_scale = min(1.0, det_side / max(image.shape[:2]))  # as ``_ocr.detect`` scales
    return _Reading(parsed, upright, card_frame, rows, turns % 4, boxes, det_scale)


def _read_in_steps(boxes: list[np.ndarray], crops: list[np.ndarray], shape: tuple[int, ...],
                   *, card_frame: bool) -> tuple[list[TextLine], Parsed]:
    """The text lines recognised and the fields parsed from them: on a rectified card,
    the lines that hold no field read only when the fields want them
    (``_read_order``: a back's labels and title are a third of its text to recognise);
    else every line at once."""
    from batch_ocr.engines.local import _ocr

    levellers = _level.levellers(boxes, shape)
    label_column = LABEL_COLUMN_RIGHT * shape[1] if card_frame else None
    texts: dict[int, LineRead] = {}

    def read(indices: list[int]) -> tuple[list[TextLine], Parsed]:
        texts.update(zip(indices, _ocr.read_lines([crops[i] for i in indices]), strict=True))
        lines = _text_lines(boxes, texts, levellers, card_frame=card_frame)
        return lines, parse(group_rows(lines, label_column_right=label_column))

    if not card_frame:
        return read(list(range(len(boxes))))
    order = _read_order.steps(boxes, shape)
    lines, parsed = read(order.first)
    if order.for_front and not _read_order.settled_back(
            parsed, group_rows(lines, label_column_right=label_column)):  # fmt: skip
        lines, parsed = read(order.for_front)
    if order.last and (parsed.side == "none" or not all(parsed.validity.values())):
        lines, parsed = read(order.last)
    return lines, parsed


def _read_lost_fields(
    image: np.ndarray, lines: list[TextLine], parsed: Parsed, label_column: float | None
) -> tuple[list[TextLine], Parsed]:
    """The fields the detector lost or a stamp hid on a rectified card, read again off
    the place the card prints them (``_bands``): the lines with each band's read in
    place of what was read there, and the fields parsed again."""
    if parsed.side == "front" and not parsed.validity.get("number"):
        # The detector lost the number (a stamp across it, glare): read where the card
        # prints it, and keep what passes the check character.
        number_line = _read_number_band(image, parsed.info.get("number", ""))
        if number_line is not None:
            # In place of what was read there: two reads of one number side by side
            # would make one run of 36 digits.
            lines = [*_off_the_line(lines, number_line), number_line]
            parsed = parse(group_rows(lines, label_column_right=label_column))
    elif parsed.side == "back" and not lawful_period(parsed.info.get("timelimit", "")):
        # Lost, or read as no lawful period (a stamp's ink across a digit: 2024 for
        # 2021): read where the card prints it, and keep a lawful one in its place.
        period_line = read_period_band(image, lines)
        if period_line is not None:
            lines = [*_off_the_band(lines, period_line), period_line]
            parsed = parse(group_rows(lines, label_column_right=label_column))
    if parsed.side == "back" and not parsed.info.get("authority"):
        # The office's name lost (a stamp across it): read where the card prints it.
        office_line = _read_authority_band(image)
        if office_line is not None:
            lines = [*_off_the_band(lines, office_line), office_line]
            parsed = parse(group_rows(lines, label_column_right=label_column))
    elif parsed.side == "back" and _office_doubted(parsed):
        # Given, but in doubt: read again without a stamp's ink, kept where it agrees.
        office_line = _read_doubted_office(image, parsed.info["authority"])
        if office_line is not None:
            lines = [*_off_the_band(lines, office_line), office_line]
            parsed = parse(group_rows(lines, label_column_right=label_column))
    if parsed.side == "front":
        # A stamp across the address, the nation, the birth date or the name: its print
        # alone is read (``_bands.FRONT_REREADS``).
        # The sex lost too, where the number cannot give it (``_sex_band``).
        for wanting, read_band in (*FRONT_REREADS, (sex_lost, read_sex_band)):
            line = read_band(image, lines, parsed) if wanting(parsed.info) else None
            if line is not None:
                lines = [*_off_the_band(lines, line), line]
                parsed = parse(group_rows(lines, label_column_right=label_column))
    return lines, parsed


def _office_doubted(parsed: Parsed) -> bool:
    """Whether the back's office's name passes its rule but is given at a confidence a
    row is not accepted at (the review signal's bar)."""
    from batch_ocr.run.present.review import LOW_CONFIDENCE_BELOW

    return parsed.validity.get("authority", False) and (
        parsed.confidence.get("authority", 0.0) < LOW_CONFIDENCE_BELOW)


def _off_the_line(lines: list[TextLine], band: TextLine) -> list[TextLine]:
    """``lines`` without the digit runs whose middle lies in ``band``'s box."""
    return [ln for ln in lines
            if not (band.top <= ln.center_y <= band.bottom
                    and _NUMBER_PIECE_RE.search(digits(ln.text)))]  # fmt: skip


def _off_the_band(lines: list[TextLine], band: TextLine) -> list[TextLine]:
    """``lines`` without those whose middle lies in ``band``'s box (what the band's read
    replaces), labels left of it kept."""
    return [ln for ln in lines
            if not (band.top <= ln.center_y <= band.bottom
                    and band.left <= (ln.left + ln.right) / 2 <= band.right)]  # fmt: skip


def _text_lines(
    boxes: list[np.ndarray],
    texts: dict[int, LineRead],
    levellers: list[np.ndarray | None],
    *,
    card_frame: bool,
) -> list[TextLine]:
    """The recognised boxes as text lines (levelled), in the detector's order."""
    # Stamps and watermarks of a copy (复印无效, 仅限…使用) are never part of a field.
    read = sorted(texts)
    cleaned = dict(zip(read, strip_stamps_of_lines([texts[i].text for i in read]), strict=True))
    lines = []
    for i, box in enumerate(boxes):
        if i not in texts:
            continue
        text, score = cleaned[i], texts[i].score
        if score < MIN_LINE_SCORE or not text.strip():
            continue
        turn = levellers[i]
        points = box if turn is None else box @ turn[:, :2].T + turn[:, 2]
        xs, ys = points[:, 0], points[:, 1]
        lines.append(
            TextLine(
                text, score, float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()),
                least=texts[i].least, stamped=text != texts[i].text, chars=texts[i].chars,
            )
        )
    return _drop_other_script_lines(lines) if card_frame else lines


def _drop_other_script_lines(lines: list[TextLine]) -> list[TextLine]:
    """Lines of a bilingual card's other script, which the recogniser reads as junk.

    Uyghur, Tibetan, Mongolian, Yi, Korean or Zhuang lines sit above or beside the
    Chinese in a smaller type. On a rectified card the ID number's line gives the scale:
    a line much lower than it whose text is neither Chinese nor digits, or that the
    recogniser is unsure of, is the other script. Chinese labels and a year printed
    apart are small too, but read surely.
    """
    import statistics

    numbers = [ln.height for ln in lines if _LONG_DIGITS_RE.search(digits(ln.text))]
    if not numbers:
        return lines
    small = OTHER_SCRIPT_MAX_HEIGHT * statistics.median(numbers)
    return [
        ln for ln in lines
        if ln.height >= small
        or (ln.score >= OTHER_SCRIPT_MAX_SCORE and _CHINESE_OR_DIGIT.search(ln.text))
    ]  # fmt: skip
