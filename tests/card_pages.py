"""Pages of several cards for the tests, drawn by ``samples/make_samples.py``.

The drawing code lives with the sample generator (one home); the tests import it by
file path, as the accuracy harness does. Every person is made up.
"""

from __future__ import annotations

import importlib.util
import io
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MAKE_SAMPLES = REPO / "samples" / "make_samples.py"
#: The dev set of real-format photocopy pages, beside the project (never copied in).
DOCUMENTS = REPO.parent / "shared" / "documents"


def module_at(name: str, path: Path) -> ModuleType:
    """The script at ``path`` as module ``name``, loaded once (``samples`` and
    ``tests/benchmarks`` are not packages)."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look the module up while building
    spec.loader.exec_module(module)
    return module


def make_samples() -> ModuleType:
    """``samples/make_samples.py`` as a module."""
    return module_at("make_samples", MAKE_SAMPLES)


def page_bytes(page: Any, seed: int = 1) -> bytes:
    """``page`` (a ``make_samples.CardPage``) drawn and encoded as a scan would be."""
    samples = make_samples()
    image = samples.draw_card_page(page, random.Random(seed))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG" if page.desk else "PNG", quality=90)
    return buffer.getvalue()


def people(count: int, seed: int = 7) -> list[Any]:
    """``count`` made-up people."""
    samples = make_samples()
    rng = random.Random(seed)
    return [samples.make_person(rng) for _ in range(count)]


def field_forms(data: Any) -> dict[str, str]:
    """An engine's ``CardData`` in the forms of ``make_samples.side_truth``."""
    info = data.info
    out = {name: getattr(info, name) or "" for name in
           ("name", "sex", "nation", "address", "number", "authority", "timelimit")}  # fmt: skip
    birth = ""
    if info.year and (info.month or "").isdigit() and (info.day or "").isdigit():
        birth = f"{info.year}-{int(info.month):02d}-{int(info.day):02d}"
    out["birth"] = birth
    return out


#: How a page reaches batch-ocr: lossy JPEG at the qualities scanners and phones use,
#: lossless PNG and TIFF, and a PDF that embeds the JPEG scan (read back byte for byte).
PAGE_ENCODINGS = ("jpeg60", "jpeg75", "jpeg85", "jpeg95", "png", "tiff", "pdf-jpeg75")


def encode_page(image: Any, encoding: str) -> bytes:
    """``image`` (PIL) saved as ``encoding`` (one of ``PAGE_ENCODINGS``): the file's bytes."""
    buffer = io.BytesIO()
    rgb = image.convert("RGB")
    if encoding.startswith("jpeg"):
        rgb.save(buffer, "JPEG", quality=int(encoding.removeprefix("jpeg")))
    elif encoding == "png":
        rgb.save(buffer, "PNG")
    elif encoding == "tiff":
        rgb.save(buffer, "TIFF", compression="tiff_deflate")
    elif encoding == "pdf-jpeg75":
        rgb.save(buffer, "PDF", resolution=150, quality=75)
    else:
        raise ValueError(f"unknown encoding {encoding!r}")
    return buffer.getvalue()


def page_image(file_bytes: bytes) -> bytes:
    """The one page image batch-ocr recognises in a one-page file (``pages.split_pages``)."""
    from batch_ocr.run import pages

    (page,) = pages.split_pages(file_bytes)
    assert isinstance(page, pages.Page), page
    return page.image


def scanned_copy(encoding: str, *, washed_out: float = 0.3, **options: Any) -> bytes:
    """A grey A4 copy of one person's front and back (the back paler: a second pass),
    scanned at 150 dpi with the scanner's shadow line, as ``encoding``; ``options`` go
    to ``make_samples.CardPage`` (``row_gap``, ``page_turns``, ``grey``)."""
    samples = make_samples()
    person = people(1, seed=11)[0]
    cards = (samples.PageCard("front", person),
             samples.PageCard("back", person, washed_out=washed_out))  # fmt: skip
    page = samples.CardPage("scan", cards, scan_edge=True, **options)
    image = samples.draw_card_page(page, random.Random(1), dpi=150)
    return page_image(encode_page(image, encoding))


def scanned_copy_truth() -> dict[str, str]:
    """Both sides' fields of ``scanned_copy``'s person (``make_samples.side_truth``)."""
    samples = make_samples()
    person = people(1, seed=11)[0]
    return {**samples.side_truth(person, "front"), **samples.side_truth(person, "back")}


#: How much paler than the front a back comes out when its edges vanish into the paper
#: (``make_samples.PageCard.washed_out``: 0.45-0.7 on the generator's copies; paler
#: still, the card comes out lighter than the paper and shows its edge again).
PALE_BACK = 0.55


def smeared_back_copy(encoding: str = "jpeg75") -> bytes:
    """``scanned_copy`` with a pale back that is also smeared along its lines (the page
    moved in the copier: a 31 px run, about 5 mm, at 150 dpi over the lower part of the
    page): its lines of print show, yet no recogniser reads a character of them. (Up to
    about 27 px the back's title stays legible, 居民身份证 at 19 px, and at 15 px enough
    of 中华人民共和国 too for the side to read as a back that failed to scan: a side
    read, not one unread.)"""
    import numpy as np
    from PIL import Image

    samples = make_samples()
    person = people(1, seed=11)[0]
    cards = (samples.PageCard("front", person),
             samples.PageCard("back", person, washed_out=PALE_BACK))  # fmt: skip
    image = samples.draw_card_page(samples.CardPage("scan", cards, scan_edge=True),
                                   random.Random(1), dpi=150)  # fmt: skip
    width, height = image.size
    box = (0, height // 3 + 40, width, height)  # below the front, around the back
    lower = np.asarray(image.crop(box)).astype(np.float32)
    kernel = np.ones(31, np.float32) / 31
    smeared = np.apply_along_axis(lambda line: np.convolve(line, kernel, "same"), 1, lower)
    image.paste(Image.fromarray(smeared.round().astype(np.uint8)), box[:2])
    return page_image(encode_page(image, encoding))
