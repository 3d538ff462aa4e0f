"""Offline recognition: one image in, the provider-shaped ``CardData`` out.

``recognise`` is the whole job for one image, synchronous and CPU-bound: decode, find
and straighten the card, turn it upright, read the text, parse the fields. The OCR
models are a lazy per-process singleton (``_ocr.models``). ``LocalEngine`` runs
``recognise`` in a pool of worker processes so N workers use N cores, and survives a
worker dying (the pool is recreated; the job that was running becomes an error).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import multiprocessing
import os
import re
import signal
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from batch_ocr import id_rules
from batch_ocr.cards import CardRead, assemble
from batch_ocr.checks import validity_period_ok
from batch_ocr.engines.local._checks import LONG_TERM, timelimit_ok
from batch_ocr.engines.local._fields import (
    _ID_RE,
    _LONG_DIGITS_RE,
    _PERIOD_RE,
    FRONT_VALIDITY_KEYS,
    Parsed,
    TextLine,
    clean,
    digits,
    group_rows,
    parse,
)
from batch_ocr.engines.local._fields import Row as TextRow
from batch_ocr.engines.local._stamps import strip_stamps
from batch_ocr.errors import FileError
from batch_ocr.models import CardData, CardInfo

if TYPE_CHECKING:
    import numpy as np

#: Modules the ``local`` extra installs.
REQUIRED_MODULES = ("rapidocr", "onnxruntime", "cv2", "numpy")
#: Long side the detector sees a rectified card at (text is then ~17-24 px tall).
CARD_DET_LONG_SIDE_PX = 512
#: ... and again at this size when a field read at the first did not pass its check
#: (small or stamped text): the detector's cost grows with the pixels, so the first
#: look is cheap and only doubtful cards pay for the second (README, "Offline engine").
CARD_DET_RETRY_LONG_SIDE_PX = 640
#: Long side the detector sees a whole photo at, when no card outline was found. At
#: 960 a worker's peak memory reached 460 MB (the detector's buffers grow with the
#: pixels); at 720 it stays near 370 MB, with the same fields on every harness set.
PHOTO_DET_LONG_SIDE_PX = 720
#: Lines the recogniser is less sure of than this are dropped, as RapidOCR does.
MIN_LINE_SCORE = 0.5
#: A worker is replaced after this many images, so a slow leak cannot grow unbounded.
MAX_TASKS_PER_WORKER = 1000
#: Right edge of the label column on a rectified front, as a fraction of its width
#: (labels end at ~0.15, values start at ~0.175 on the samples and the specimens).
LABEL_COLUMN_RIGHT = 0.165
#: Where the gap between labels and values is looked for, as fractions of the width.
LABEL_CUT_RANGE = (0.125, 0.195)
#: Rows above this fraction of the height have their label in the label column.
LABELLED_ROWS_BOTTOM = 0.75
#: Text tilted more than this on a "rectified" card means the outline was wrong.
MAX_FRAME_TILT_DEG = 2.5
#: A line lower than this share of the ID number's line, and not surely read Chinese,
#: is another script's (bilingual cards): labels are ~0.85 of it, those lines ~0.7.
OTHER_SCRIPT_MAX_HEIGHT = 0.8
OTHER_SCRIPT_MAX_SCORE = 0.9
_CHINESE_OR_DIGIT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff0-9]")
#: Where a front prints the ID number, as fractions of the rectified card (left, top,
#: right, bottom): a generous band, then a tight one (the samples and the specimens).
NUMBER_BANDS = ((0.28, 0.77, 0.95, 0.92), (0.29, 0.79, 0.82, 0.90))
#: Where a back prints the period of validity (right of its label), the same way.
PERIOD_BANDS = ((0.38, 0.78, 0.92, 0.92), (0.40, 0.80, 0.85, 0.89))
#: Long side a page without outlines is read at when the photo-sized reading failed: on
#: an A4 page at 1280 px a card's text is ~8 px tall, too small to read.
PAGE_LONG_SIDE_PX = 2000
#: Whole pictures whose proportions are this close to a card's are taken as the card.
CARD_ASPECT_TOLERANCE = 0.12


class LocalEngineError(FileError):
    """The offline engine could not process this file (it becomes an ``error`` row)."""


#: ``info`` keys -> the output columns their confidence is reported under.
CONFIDENCE_COLUMNS = {
    "name": ("name",),
    "sex": ("sex",),
    "nation": ("nation",),
    "birthday": ("birth_date",),
    "address": ("address",),
    "number": ("id_number",),
    "authority": ("authority",),
    "timelimit": ("valid_from", "valid_to"),
}


@dataclass(frozen=True)
class LocalRecognition:
    """What the offline engine read: the provider-shaped ``data``, the portrait, and
    the recogniser's 0-1 confidence per output column (empty when no card was read)."""

    data: CardData
    portrait_jpeg: bytes | None
    confidence: dict[str, float] = field(default_factory=dict)
    #: ``image_warnings.detect`` on the decoded picture and the outline found in it.
    warnings: tuple[str, ...] | None = None
    #: One entry per row when the image held several ID card sides that are not one
    #: front and one back (``batch_ocr.cards``); ``data`` is then the first's.
    cards: tuple[CardRead, ...] = ()


def column_confidence(parsed: Parsed) -> dict[str, float]:
    """``Parsed.confidence`` keyed by the output columns (``birth_date``, ``id_number``)."""
    if parsed.side == "none":
        return {}
    return {
        column: score
        for key, score in parsed.confidence.items()
        for column in CONFIDENCE_COLUMNS.get(key, (key,))
    }


def available() -> bool:
    """Whether the ``local`` extra is installed (its modules and shipped models)."""
    if any(importlib.util.find_spec(name) is None for name in REQUIRED_MODULES):
        return False
    from batch_ocr.engines.local import _ocr

    return not _ocr.missing_models()


@dataclass
class _Reading:
    parsed: Parsed
    upright: np.ndarray  # the image the text was read on, turned upright
    card_frame: bool  # whether ``upright`` is the card itself, edge to edge
    rows: list[TextRow] = field(default_factory=list)  # the text the fields came from


def _is_tall(box: np.ndarray) -> bool:
    """Whether a text box is much taller than wide (text running up or down)."""
    xs, ys = box[:, 0], box[:, 1]
    return float(ys.max() - ys.min()) > 1.5 * float(xs.max() - xs.min())


def _text_angle(boxes: list[np.ndarray]) -> float:
    """Median slope of the long text boxes, in degrees (0 when level)."""
    import numpy as np

    angles = []
    for box in boxes:
        dx, dy = box[1] - box[0]
        if abs(dx) > 2 * np.hypot(*(box[3] - box[0])):
            angles.append(float(np.degrees(np.arctan2(dy, dx))))
    return float(np.median(angles)) if angles else 0.0


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
        ink = (255.0 - band).mean(axis=0)
        cut = float(lo + int(np.argmin(ink)))
        out.append(np.array([[x0, y0], [cut, y0], [cut, y1], [x0, y1]], dtype=np.float32))
        out.append(np.array([[cut, y0], [x1, y0], [x1, y1], [cut, y1]], dtype=np.float32))
    return out


def _read_card(card: np.ndarray) -> _Reading:
    """Read a rectified card: a cheap look, and a sharper one if a field was doubtful."""
    reading = _read(card, rectified=True)
    if reading.parsed.side == "none" or all(reading.parsed.validity.values()):
        return reading
    again = _read(card, rectified=True, det_side=CARD_DET_RETRY_LONG_SIDE_PX)
    return again if _valid_fields(again) > _valid_fields(reading) else reading


def _valid_fields(reading: _Reading) -> int:
    return -1 if reading.parsed.side == "none" else sum(reading.parsed.validity.values())


def _read(image: np.ndarray, *, rectified: bool, det_side: int | None = None) -> _Reading:
    """Detect, orient, recognise and parse the text of ``image``."""
    import numpy as np

    from batch_ocr.engines.local import _ocr

    if det_side is None:
        det_side = CARD_DET_LONG_SIDE_PX if rectified else PHOTO_DET_LONG_SIDE_PX
    boxes = _ocr.detect(image, long_side_px=det_side)
    if not rectified and boxes:
        # Text running up or down the picture: the card lies on its side. Turn it a
        # quarter clockwise; if that was the wrong way, the 180° vote below fixes it.
        tall = sum(1 for b in boxes if _is_tall(b))
        if tall > len(boxes) / 2:
            image = _ocr.rotate_image(image, 1)
            boxes = _ocr.detect(image, long_side_px=det_side)
    crops = [_ocr.crop_line(image, box) for box in boxes]
    upright_votes, flipped_votes = _ocr.upside_down_votes(crops)
    height, width = image.shape[:2]
    if flipped_votes > upright_votes:
        image = _ocr.rotate_image(image, 2)
        boxes = [(np.array([width - 1, height - 1], dtype=np.float32) - b)[[2, 3, 0, 1]]
                 for b in boxes]  # fmt: skip
        crops = [_ocr.rotate_image(c, 2) for c in crops]
    angle = _text_angle(boxes)
    # A rectified card has level text; tilted text means the outline found was not the
    # card's (a busy background), so its frame is not trusted for labels or portrait.
    card_frame = rectified and abs(angle) < MAX_FRAME_TILT_DEG
    if card_frame:
        boxes = _split_labels(image, boxes)
        crops = [_ocr.crop_line(image, box) for box in boxes]
    rotation = None if abs(angle) < 1.0 else _rotation_matrix(angle, image.shape)
    lines = []
    for box, (text, score) in zip(boxes, _ocr.read_lines(crops), strict=True):
        # Stamps and watermarks of a copy (复印无效, 仅限…使用) are never part of a field.
        text = strip_stamps(text)
        if score < MIN_LINE_SCORE or not text.strip():
            continue
        points = box if rotation is None else box @ rotation[:, :2].T + rotation[:, 2]
        xs, ys = points[:, 0], points[:, 1]
        lines.append(
            TextLine(
                text, score, float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
            )
        )
    if card_frame:
        lines = _drop_other_script_lines(lines)
    label_column = LABEL_COLUMN_RIGHT * image.shape[1] if card_frame else None
    parsed = parse(group_rows(lines, label_column_right=label_column))
    if card_frame and parsed.side == "front" and not parsed.validity.get("number"):
        # The detector lost the number (a stamp across it, glare): read where the card
        # prints it, and keep what passes the check character.
        number_line = _read_number_band(image)
        if number_line is not None:
            lines.append(number_line)
            parsed = parse(group_rows(lines, label_column_right=label_column))
    elif card_frame and parsed.side == "back" and not parsed.validity.get("timelimit"):
        period_line = _read_period_band(image)
        if period_line is not None:
            lines.append(period_line)
            parsed = parse(group_rows(lines, label_column_right=label_column))
    rows = group_rows(lines, label_column_right=label_column)
    return _Reading(parsed, image, card_frame, rows)


def _read_period_band(card: np.ndarray) -> TextLine | None:
    """The period of validity read off its place on a rectified back, if it is a lawful
    one (the end 5, 10 or 20 years after the start, on the same day, or 长期)."""
    from batch_ocr.engines.local import _ocr

    height, width = card.shape[:2]
    for x0, y0, x1, y1 in PERIOD_BANDS:
        box = (int(x0 * width), int(y0 * height), int(x1 * width), int(y1 * height))
        (text, score), = _ocr.read_lines([card[box[1] : box[3], box[0] : box[2]]])
        match = _PERIOD_RE.search(digits(clean(text)))
        if match is None:
            continue
        start = "".join(match.groups()[0:3])
        end = "".join(match.groups()[3:6]) if match.group(4) else LONG_TERM
        if _lawful_period(start, end):
            printed = f"{start[:4]}.{start[4:6]}.{start[6:]}-"
            printed += end if end == LONG_TERM else f"{end[:4]}.{end[4:6]}.{end[6:]}"
            return TextLine(printed, score, *map(float, box))
    return None


def _lawful_period(start: str, end: str) -> bool:
    """A period a card can carry: real dates, then 长期 or 5, 10 or 20 years to the day."""
    if not timelimit_ok(f"{start}-{end}"):
        return False
    valid_to = end if end == LONG_TERM else f"{end[:4]}-{end[4:6]}-{end[6:]}"
    return validity_period_ok(f"{start[:4]}-{start[4:6]}-{start[6:]}", valid_to)


def _read_number_band(card: np.ndarray) -> TextLine | None:
    """The ID number read straight off its place on a rectified front, if it checks out."""
    from batch_ocr.engines.local import _ocr

    height, width = card.shape[:2]
    for x0, y0, x1, y1 in NUMBER_BANDS:
        box = (int(x0 * width), int(y0 * height), int(x1 * width), int(y1 * height))
        (text, score), = _ocr.read_lines([card[box[1] : box[3], box[0] : box[2]]])
        match = _ID_RE.search(digits(clean(text)))
        if match and id_rules.id_number_valid(match.group()):
            return TextLine(match.group(), score, *map(float, box))
    return None


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


def _rotation_matrix(angle_deg: float, shape: tuple[int, ...]) -> np.ndarray:
    """A 2x3 rotation that levels text lines sloping by ``angle_deg``.

    Rows are grouped by height on the card; on a card photographed at 10° a long row's
    ends differ in height by more than a line, so the boxes are levelled first.
    """
    import cv2
    import numpy as np

    center = (shape[1] / 2, shape[0] / 2)
    matrix: np.ndarray = cv2.getRotationMatrix2D(center, angle_deg, 1.0).astype(np.float32)
    return matrix


def _looks_like_whole_card(image: np.ndarray) -> bool:
    height, width = image.shape[:2]
    aspect = max(height, width) / max(1, min(height, width))
    return abs(aspect - 1.586) / 1.586 < CARD_ASPECT_TOLERANCE


def _card_data(parsed: Parsed) -> CardData:
    if parsed.side == "none":
        return CardData(
            result=0,
            side="front",
            info=CardInfo(
                **dict.fromkeys(
                    ("name", "sex", "nation", "year", "month", "day", "address", "number"), ""
                )
            ),  # fmt: skip
            validity=dict.fromkeys(FRONT_VALIDITY_KEYS, False),
            image_url=None,
        )
    # result 1 ("scan failed"): we saw a card but could read nothing believable off it.
    result = 0 if any(parsed.validity.values()) else 1
    return CardData(
        result=result,
        side=parsed.side,
        info=CardInfo(**parsed.info),
        validity=dict(parsed.validity),
        image_url=None,
    )


def recognise(image_bytes: bytes) -> LocalRecognition:
    """Recognise one ID card image; a pure function of the bytes.

    Raises ``LocalEngineError`` for bytes that are not a decodable image, or when the
    ``local`` extra is not installed.
    """
    try:
        from batch_ocr.engines.local import _ocr, _vision
    except ImportError as exc:
        raise LocalEngineError(
            "local_engine_missing", f"the local engine needs the 'local' extra: {exc}"
        ) from exc
    try:
        image = _vision.decode(image_bytes)
    except _vision.UnreadableImageError as exc:
        raise LocalEngineError("unreadable_image", str(exc)) from exc

    from batch_ocr.engines.local import _layout, _page

    quads = _layout.find_cards(image)
    if len(quads) >= 2:
        # A page of several cards (a copy with front and back, an ID beside a bank card).
        reads = _page.read_cards(image, quads)
        if reads is not None:
            return _recognition(assemble(reads))

    reading: _Reading | None = None
    quad = _vision.find_card(image)
    if quad is None and len(quads) == 1:
        quad = quads[0]  # a card too small a share of the picture for find_card (on A4)
    warnings = _image_warnings(image, quad)
    if quad is not None:
        reading = _read_card(_vision.warp_card(image, quad))
    if reading is None or reading.parsed.side == "none":
        # No outline, or the outline held no card text: read the whole picture.
        if _looks_like_whole_card(image):
            # The picture is the card: make it landscape; the text vote fixes 180°.
            if image.shape[0] > image.shape[1]:
                image = _ocr.rotate_image(image, 1)
            whole = _vision.fit_long_side(image, _vision.CARD_WIDTH_PX)
            reading = _read_card(whole)
        else:
            whole = _vision.fit_long_side(image, min(max(image.shape[:2]), 1280))
            reading = _read(whole, rectified=False)
        if max(image.shape[:2]) > 1280 and not all(reading.parsed.validity.values()):
            # A page (an A4 copy) whose cards' outlines were not seen: read it at full
            # size, and keep it when it believes more fields.
            page = _read(image, rectified=False, det_side=PAGE_LONG_SIDE_PX)
            if _valid_fields(page) > _valid_fields(reading):
                reading = page
        # No outline seen, yet a front and a back printed one above the other (a copy on
        # paper as pale as the cards): split the text where the sides meet.
        sides = _page.split_sides(reading.rows)
        if sides is not None:
            return _recognition(assemble([_page.card_read(p) for p in sides]))

    portrait = None
    if reading.parsed.side == "front" and reading.card_frame:
        portrait = _vision.portrait_jpeg(reading.upright)
    return LocalRecognition(
        data=_card_data(reading.parsed),
        portrait_jpeg=portrait,
        confidence=column_confidence(reading.parsed),
        warnings=warnings,
    )


def _image_warnings(image: np.ndarray, quad: np.ndarray | None) -> tuple[str, ...] | None:
    """The image warnings from the pixels and outline at hand (no second decode).

    None when they fail (a bug): the run then computes them itself.
    """
    from batch_ocr import image_warnings

    try:
        return tuple(image_warnings.detect(image, quad))
    except Exception:  # noqa: BLE001 - advice must never cost the recognition
        return None


def _recognition(rows: list[CardRead]) -> LocalRecognition:
    """The result for an image whose cards were read one by one (``assemble``d)."""
    first = rows[0]
    return LocalRecognition(
        data=first.data,
        portrait_jpeg=first.portrait_bytes,
        confidence=dict(first.confidence),
        cards=tuple(rows) if len(rows) > 1 else (),
    )


# --------------------------------------------------------------------------- pool


def _worker_init() -> None:
    """Ignore Ctrl-C, pin each worker to one thread, load the models before the first image.

    A terminal's Ctrl-C reaches the whole process group, workers included. The parent
    decides what an interrupt means (README, "Runs that resume": finish, then stop); a
    worker that raised KeyboardInterrupt printed its traceback and sent it back to the
    parent as the job's exception, which killed the parent too.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["OMP_NUM_THREADS"] = "1"
    from batch_ocr.engines.local import _ocr

    _ocr.models()


class LocalEngine:
    """Async facade over a process pool running :func:`recognise`.

    ``task`` is what the workers run; tests inject one that crashes. A worker that dies
    breaks the whole pool: the jobs that were in it fail with ``LocalEngineError`` and
    the next call gets a fresh pool.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        task: Callable[[bytes], LocalRecognition] = recognise,
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._task = task
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._closed = False

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._closed:
            raise LocalEngineError("local_engine_closed", "the local engine is closed")
        if self._executor is None:
            # spawn, not fork: onnxruntime's thread pools do not survive a fork safely.
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                max_tasks_per_child=MAX_TASKS_PER_WORKER,
            )
        return self._executor

    def _discard(self, executor: concurrent.futures.ProcessPoolExecutor) -> None:
        # Only the pool that broke is dropped: a concurrent caller may have replaced it.
        if self._executor is executor:
            self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    async def recognise(self, image_bytes: bytes) -> LocalRecognition:
        """Recognise one image in a worker process."""
        executor = self._pool()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, self._task, image_bytes)
        except BrokenProcessPool as exc:
            self._discard(executor)
            raise LocalEngineError(
                "local_worker_died",
                "a local OCR worker process died while recognising this image",
            ) from exc
        except LocalEngineError:
            raise
        except Exception as exc:
            # Any other failure inside the worker is this file's problem, not the run's.
            raise LocalEngineError("local_engine_failed", f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Stop the workers (waiting for running jobs to end, off the event loop)."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
