"""The OCR models, loaded once per process, and thin calls into them.

We use RapidOCR's detector, line-orientation classifier and recogniser separately
(instead of its all-in-one call) because the card is located, rectified and turned
upright first, and the orientation vote is taken over the whole card, not per line.

The models are the PP-OCRv6 small detector and recogniser and the PP-OCR mobile
orientation classifier that ship inside the ``rapidocr`` 3.10 wheel. Their paths are
given explicitly: RapidOCR downloads any model it does not find, and a run must never
touch the network, so a missing file is an error here instead.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

from batch_ocr.engines.local._heap import given_back_when_full
from batch_ocr.engines.local._read_past import read_past
from batch_ocr.engines.local._variants import forms_of_each_class

#: Model files inside the rapidocr package (``rapidocr/models``), by task.
MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
#: Pixels the text detector is given at once. Its working memory grows with them (a
#: worker peaks at ~290 MB on 0.4 MP, 455 MB on 1 MP and 840 MB on 2.8 MP, a page read
#: at 2,000 px): past this, a picture is detected in strips of ``DET_STRIP_PIXELS``
#: (``detect``), which keeps a worker under 400 MB (docs/offline-engine.md, "Accuracy,
#: speed and memory"). A photo read at 720 px (0.52 MP) is still seen whole.
DET_MAX_PIXELS = 600_000
DET_STRIP_PIXELS = 400_000
#: Strips overlap by this much: a text line up to this tall lies whole in one of them (a
#: card's line tilted 10 degrees on an A4 page read at 2,000 px is ~80 px tall).
DET_STRIP_OVERLAP_PX = 96
#: A picture past ``DET_MAX_PIXELS`` (a page) is first looked at this small for where
#: its print lies (``_inked_part``): strokes at least ``INK_MIN_CONTRAST`` darker than
#: what is around them, in rows and columns holding ``INK_MIN_STROKE_PX`` of them or more
#: (JPEG noise and paper grain hold fewer). Only that part, grown by ``INK_MARGIN_PX`` of
#: the detector's pixels on each side, is detected: an A4 copy's two cards cover a fifth
#: of the page, whose detection at 2,000 px cost 2.2 s.
INK_LOOK_LONG_SIDE_PX = 500
INK_MIN_CONTRAST = 24
INK_MIN_STROKE_PX = 2
INK_MARGIN_PX = 64
#: The detector's input is a whole multiple of this many pixels on each side.
DET_SIZE_STEP_PX = 32
#: glibc's ``M_MMAP_THRESHOLD`` (``malloc.h``), and the sizes it is set to around a
#: page's strips (``heap_given_back``): its default, and the most it rises to itself.
_M_MMAP_THRESHOLD = -3
_MMAP_MIN_BYTES = 128 * 1024
_MMAP_MAX_BYTES = 32 * 2**20
#: One thread per worker process: N workers use N cores, and no worker fights another.
THREADS_PER_WORKER = 1
#: Height the recogniser reads lines at (PP-OCR's ``rec_img_shape``).
REC_HEIGHT_PX = 48
#: Widest line the recogniser is given (an 18-digit number is ~15 heights wide).
REC_MAX_WIDTH_PX = 48 * 40
#: Lines of one width recognised in one session run, and the step widths are padded to.
REC_BATCH_MAX = 8
REC_WIDTH_STEP = 4
#: Line crops whose answers are remembered (a few cards' worth).
RECENT_LINES = 256
#: Confidence the line classifier needs before we count its "upside down" vote.
CLS_VOTE_MIN_SCORE = 0.8


def model_dir() -> Path:
    """Where rapidocr keeps its shipped models (without importing rapidocr)."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("rapidocr")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def missing_models() -> list[str]:
    """Model files that should ship in the rapidocr wheel but are not there."""
    root = model_dir()
    return [name for name in MODEL_FILES.values() if not (root / name).is_file()]


@dataclass(frozen=True)
class Models:
    """The three loaded networks."""

    det: Any
    cls: Any
    rec: Any


@functools.cache
def models() -> Models:
    """Load the networks once per process (about 1 s, ~150 MB)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS_PER_WORKER))
    cv2.setNumThreads(THREADS_PER_WORKER)
    missing = missing_models()
    if missing:
        raise FileNotFoundError(f"rapidocr models missing (not downloading): {missing}")
    from rapidocr import RapidOCR

    root = model_dir()
    params: dict[str, Any] = {
        "Global.log_level": "error",
        "EngineConfig.onnxruntime.intra_op_num_threads": THREADS_PER_WORKER,
        "EngineConfig.onnxruntime.inter_op_num_threads": THREADS_PER_WORKER,
    }
    for task, file_name in MODEL_FILES.items():
        params[f"{task}.model_path"] = str(root / file_name)
    engine = RapidOCR(params=params)
    # Private loaders, but the version is pinned (``rapidocr>=3.10,<3.11``) for this.
    det = engine._load_det_model()
    # The detector's mean and std come as OmegaConf lists, which numpy turns into arrays
    # through attribute probes that each raise and format an error: 3.7 ms of every
    # detection (``get_preprocess``), for the same three floats as plain lists give.
    det.mean, det.std = [float(v) for v in det.mean], [float(v) for v in det.std]
    return Models(det=det, cls=engine._load_cls_model(), rec=engine._load_rec_model())


def detect(image: np.ndarray, *, long_side_px: int) -> list[np.ndarray]:
    """Quadrilaterals (4x2 float32, clockwise from top-left) around text lines.

    The detector sees the image scaled so its long side is at most ``long_side_px``
    (its cost grows with the pixel count); boxes come back in ``image`` pixels. Past
    ``DET_MAX_PIXELS`` it sees the scaled image in overlapping strips
    (``_detect_in_strips``), so its memory stays bounded whatever the size asked.
    """
    det = models().det
    height, width = image.shape[:2]
    scale = min(1.0, long_side_px / max(height, width))
    small = image
    if scale < 1.0:
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if small.shape[0] * small.shape[1] <= DET_MAX_PIXELS:
        boxes = _detect_whole(det, small)
        return [np.asarray(box, dtype=np.float32) / scale for box in boxes]
    left, top, right, bottom = _inked_part(small)
    part = small[top:bottom, left:right]
    if part.shape[0] * part.shape[1] > DET_MAX_PIXELS:
        boxes = _detect_in_strips(det, part)
    else:
        boxes = _detect_whole(det, part)
    offset = np.array([left, top], np.float32)
    return [(np.asarray(box, dtype=np.float32) + offset) / scale for box in boxes]


def _inked_part(image: np.ndarray) -> tuple[int, int, int, int]:
    """The part of ``image`` (left, top, right, bottom) that holds its print, grown by
    ``INK_MARGIN_PX``; all of it when it holds none."""
    height, width = image.shape[:2]
    look = min(1.0, INK_LOOK_LONG_SIDE_PX / max(height, width))
    small = cv2.resize(image, None, fx=look, fy=look, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    strokes = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, np.ones((7, 7), np.uint8))
    inked = strokes > INK_MIN_CONTRAST
    rows = np.flatnonzero(np.count_nonzero(inked, axis=1) >= INK_MIN_STROKE_PX)
    cols = np.flatnonzero(np.count_nonzero(inked, axis=0) >= INK_MIN_STROKE_PX)
    if rows.size == 0 or cols.size == 0:
        return 0, 0, width, height
    margin = INK_MARGIN_PX
    return (max(0, int(cols[0] / look) - margin), max(0, int(rows[0] / look) - margin),
            min(width, int((cols[-1] + 1) / look) + margin),
            min(height, int((rows[-1] + 1) / look) + margin))  # fmt: skip


def _detect_whole(det: Any, small: np.ndarray) -> list[np.ndarray]:
    """RapidOCR's detection of ``small`` (its ``TextDetector.__call__``), with the
    pixels normalised through a table (``_normalised``): the same input to the network."""
    given_back_when_full()  # its working memory on top of a full heap passed 400 MB
    # We did the scaling: the detector only rounds the size to a multiple of 32.
    det.limit_type, det.limit_side_len = "max", max(small.shape[:2])
    if small.ndim != 3 or small.shape[2] != 3:
        result = det(small)
        return [] if result.boxes is None else list(result.boxes)
    prepare = det.get_preprocess()
    resized = prepare.resize(small)
    if resized is None:
        return []
    predictions = det.session(_normalised(resized, prepare.scale, prepare.mean, prepare.std))
    boxes, _ = det.postprocess_op(predictions, small.shape[:2])
    return list(det.sorted_boxes(boxes)) if len(boxes) else []


def _normalised(image: np.ndarray, scale: float, mean: np.ndarray, std: np.ndarray
                ) -> np.ndarray:  # fmt: skip
    """``image`` (HxWx3 uint8) as the detector's input (1x3xHxW float32): each value as
    RapidOCR's ``DetPreProcess`` makes it (times ``scale`` in float32, less ``mean`` and
    over ``std`` in float64, then float32), looked up in a table of the 256 a channel
    can hold: bit for bit the same, in a fifth of the time (the arithmetic in float64 on
    every pixel cost 3 ms of a card's 50 ms detection, 6 ms on a photo at 720 px)."""
    table = _normalising_table(float(scale), tuple(np.ravel(mean).tolist()),
                               tuple(np.ravel(std).tolist()))  # fmt: skip
    out = np.empty((1, 3, image.shape[0], image.shape[1]), dtype=np.float32)
    for channel in range(3):
        np.take(table[channel], image[:, :, channel], out=out[0, channel])
    return out


@functools.cache
def _normalising_table(scale: float, mean: tuple[float, ...], std: tuple[float, ...]
                       ) -> np.ndarray:  # fmt: skip
    values = np.arange(256, dtype=np.float32).reshape(256, 1) * scale
    table = (values - np.array(mean)) / np.array(std)
    return np.ascontiguousarray(table.astype(np.float32).T)


#: How many ``heap_given_back`` blocks are open (they nest: a page's strips inside its
#: whole reading); the threshold is set back only when the outermost one ends.
_heap_depth = 0


@contextlib.contextmanager
def heap_given_back() -> Iterator[None]:
    """While inside, every block of ``_MMAP_MIN_BYTES`` or more is mapped on its own and
    goes back to the system once freed; the heap's free memory is given back first.

    glibc keeps freed memory in its heap and raises the size past which it maps blocks
    on their own to the largest one freed (up to 32 MB): after a photo read at 720 px a
    worker held 90 MB more, in pieces too small for a page's strips, and peaked at 356
    to 410 MB on a blank A4 page (over the 400 MB bound); three 4,000 px pages in a row
    took it to 470 MB. Not for every card: each of its buffers faulted in afresh cost
    50% more CPU. After, the threshold is left where glibc's own would have risen to,
    and the heap is given back again. A no-op where the C library is not glibc.
    """
    global _heap_depth
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt, trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        yield
        return
    if _heap_depth == 0:
        mallopt(_M_MMAP_THRESHOLD, _MMAP_MIN_BYTES)
        trim(0)
    _heap_depth += 1
    try:
        yield
    finally:
        _heap_depth -= 1
        if _heap_depth == 0:
            mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX_BYTES)
            trim(0)


def _detect_in_strips(det: Any, small: np.ndarray) -> list[np.ndarray]:
    """The boxes of ``small`` found in full-width strips of ``DET_STRIP_PIXELS`` or so
    that overlap by ``DET_STRIP_OVERLAP_PX``: a box is kept from the strip whose own
    part (its rows less half of each overlap) holds the box's middle, where it lies
    whole. In reading order, as the detector gives them.

    The picture is first stretched to whole multiples of 32 px as the detector stretches
    what it is given, and the strips are cut at multiples of 32, so each strip sees the
    pixels the whole picture's detection would see.
    """
    height, width = small.shape[:2]
    step = DET_SIZE_STEP_PX
    fitted_h = max(step, round(height / step) * step)
    fitted_w = max(step, round(width / step) * step)
    fitted = cv2.resize(small, (fitted_w, fitted_h))
    overlap = DET_STRIP_OVERLAP_PX
    strip = max(2 * overlap, DET_STRIP_PIXELS // fitted_w // step * step)
    to_small = np.array([width / fitted_w, height / fitted_h], np.float32)
    with heap_given_back():
        kept = _strip_boxes(det, fitted, strip, overlap)
    return list(det.sorted_boxes(np.array(kept) * to_small)) if kept else []


def _strip_boxes(det: Any, fitted: np.ndarray, strip: int, overlap: int) -> list[np.ndarray]:
    """The boxes of each strip of ``fitted`` whose middle lies in the strip's own part."""
    fitted_h = fitted.shape[0]
    kept: list[np.ndarray] = []
    top = 0
    while top < fitted_h:
        bottom = min(fitted_h, top + strip)
        own_top = top + overlap // 2 if top > 0 else 0
        own_bottom = bottom - overlap // 2 if bottom < fitted_h else fitted_h
        for box in _detect_whole(det, fitted[top:bottom]):
            placed = np.asarray(box, dtype=np.float32) + np.array([0, top], np.float32)
            if own_top <= float(placed[:, 1].mean()) < own_bottom:
                kept.append(placed)
        if bottom == fitted_h:
            break
        top = bottom - overlap
    return kept


def crop_line(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The text line under ``box``, straightened (tall crops turned on their side)."""
    from rapidocr.utils.process_img import get_rotate_crop_image

    return get_rotate_crop_image(image, box.copy())


class LineRead(NamedTuple):
    """What the recogniser read on one line crop."""

    text: str
    #: The mean probability of its characters (RapidOCR's line score).
    score: float
    #: The probability of its least sure character: one misread character in a long
    #: line hardly moves the mean, and shows here.
    least: float
    #: Each character of ``text`` with its probability (the fields' confidence starts
    #: from those of their own characters, not a label's read in the same line).
    chars: tuple[tuple[str, float], ...] = ()


def read_lines(crops: list[np.ndarray]) -> list[LineRead]:
    """Text and confidence of each (upright) line crop.

    Each line is scaled to the model's height and padded to the next multiple of
    ``REC_WIDTH_STEP`` only; lines of the same padded width are recognised together.
    RapidOCR's own call pads every line to at least 320 px (a ten-character line) and
    each batch to its widest line, but the recogniser's cost is its input's width: a
    batch of lines within 1.2x of each other's width cost 5% more than each line alone,
    and a session run costs ~1.5 ms against ~75 ms per 1,000 px of line. So a line's
    answer depends on its own pixels only, and a crop read before (the same band read
    again on a second look at a card) is not recognised twice.
    """
    if not crops:
        return []
    rec = models().rec
    height = REC_HEIGHT_PX
    out: list[LineRead | None] = [None] * len(crops)
    keys = [_crop_key(crop) for crop in crops]
    by_width: dict[int, list[int]] = {}
    for index, (crop, key) in enumerate(zip(crops, keys, strict=True)):
        known = _recent_lines.get(key)
        if known is not None:
            out[index] = known
            continue
        width = _line_width(crop)
        padded = -(-width // REC_WIDTH_STEP) * REC_WIDTH_STEP
        by_width.setdefault(padded, []).append(index)
    for padded, indices in by_width.items():
        for start in range(0, len(indices), REC_BATCH_MAX):
            batch_ids = indices[start : start + REC_BATCH_MAX]
            # Zero is mid-grey after the model's normalisation, as RapidOCR pads.
            batch = np.zeros((len(batch_ids), 3, height, padded), dtype=np.float32)
            for slot, index in enumerate(batch_ids):
                width = _line_width(crops[index])
                line = cv2.resize(crops[index], (width, height)).astype(np.uint8, copy=False)
                batch[slot, :, :, :width] = np.take(_REC_TABLE, line).transpose(2, 0, 1)
            predictions = rec.session(batch)
            texts, _ = rec.postprocess_op(predictions, False)
            per_character = _character_probabilities(predictions)
            for slot, index in enumerate(batch_ids):
                text, score = texts[slot]
                probabilities = per_character[slot]
                chars = (tuple(zip(text, probabilities, strict=True))
                         if len(probabilities) == len(text) else ())  # fmt: skip
                answer = LineRead(text, float(score), min(probabilities, default=0.0), chars)
                out[index] = answer
                _remember(keys[index], answer)
    return [line or LineRead("", 0.0, 0.0) for line in out]


#: A line's pixel values as the recogniser takes them (``value / 127.5 - 1``, computed in
#: float64 as RapidOCR does, then float32), looked up instead of computed for each pixel.
_REC_TABLE = (np.arange(256) / 127.5 - 1.0).astype(np.float32)


def _character_probabilities(predictions: np.ndarray) -> list[list[float]]:
    """Per line, the probability of each character it reads: CTC's best class at each
    step that gives a character (not the blank, class 0, nor a repeat of the step
    before), as RapidOCR's decoder keeps them, with its other forms' added
    (``_variants``: 黃 and 黄 are one character on a card), and doubted where a
    character beside it may have been read past (``_read_past``)."""
    best = predictions.argmax(axis=2)
    probability = predictions.max(axis=2)
    kept = best != 0
    kept[:, 1:] &= best[:, 1:] != best[:, :-1]
    forms = _forms_of_each_class()
    for line, step in zip(*np.nonzero(kept), strict=True):
        others = forms.get(int(best[line, step]))
        if others is not None:
            probability[line, step] = min(1.0, float(predictions[line, step, others].sum()))
    read_past(predictions, best, kept, probability, forms, _space_class())
    return [[float(p) for p in line[k]] for line, k in zip(probability, kept, strict=True)]


@functools.cache
def _forms_of_each_class() -> dict[int, list[int]]:
    return forms_of_each_class(models().rec.postprocess_op.character)


@functools.cache
def _space_class() -> int | None:
    characters = list(models().rec.postprocess_op.character)
    return characters.index(" ") if " " in characters else None


def _line_width(crop: np.ndarray) -> int:
    """The crop's width once scaled to the recogniser's height."""
    height = REC_HEIGHT_PX
    scaled = math.ceil(height * crop.shape[1] / max(1, crop.shape[0]))
    return min(REC_MAX_WIDTH_PX, max(height // 2, scaled))


def _crop_key(crop: np.ndarray) -> bytes:
    return hashlib.blake2b(
        repr(crop.shape).encode() + np.ascontiguousarray(crop).tobytes(), digest_size=16
    ).digest()


#: The answers for the last ``RECENT_LINES`` crops read in this process, by content.
_recent_lines: collections.OrderedDict[bytes, LineRead] = collections.OrderedDict()


def _remember(key: bytes, answer: LineRead) -> None:
    # Each step is one call under the GIL: threads of one process (a Dask worker's) may
    # share the cache; two evicting at once only evict one entry more.
    _recent_lines[key] = answer
    if len(_recent_lines) > RECENT_LINES:
        with contextlib.suppress(KeyError):
            _recent_lines.popitem(last=False)


def rotate_image(image: np.ndarray, quarter_turns_cw: int) -> np.ndarray:
    """The image turned clockwise by 90° steps."""
    turns = quarter_turns_cw % 4
    if turns == 0:
        return image
    codes = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(image, codes[turns])
