"""Each row's page as the review page shows it: a thumbnail with the cards outlined.

A row's thumbnail is the image its fields came from (docs/review-page.md): a file
that is one image, a PDF page as ``batch_ocr.run.pages`` gives it to the engines (its
embedded scan, or PDFium's rendering, in the renderer's own process), a TIFF frame.
The rows of one page share one view, embedded once.

Where the cards lie is found again here, by the finder the engines cut and read cards
with (``vision.crops.card_outlines``, i.e. ``layout.page_cards`` on the same decode),
rather than reported by the engine and kept beside each row. Why:

- ``batch-ocr-report`` rebuilds the page from an output file alone, long after the run;
  outlines kept by the run would need a new output column (pixels of a picture are not
  what a back office's table is for) or the state journal (which the report never
  reads, and which the user may have deleted with the data);
- the finder is the engines' own: the API engine cuts its calls with it, the offline
  engine reads what it finds, so on the same page image it finds the same cards in the
  same reading order the ``card`` column numbers;
- it costs one search at 640 px per page (tens of milliseconds), after the run.

What it cannot know is what each card is: a bank card beside an ID card is outlined
too. So the row's own card is highlighted only where the page leaves no doubt
(``own_outlines``); otherwise every card is outlined and numbered and none is
highlighted. Without the ``local`` extra (no OpenCV) there is no finder: the thumbnail
alone. A file or page that cannot be read gives a view with the reason (a placeholder
on the page), never an exception: the report is written anyway.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from batch_ocr.report.thumbs import THUMB_MAX_PX, jpeg_data_uri, mosaic, problem_of
from batch_ocr.run.pages import Page, PageRejected, split_pages
from batch_ocr.vision import crops
from batch_ocr.vision.picture import Picture

#: A file's page: its path and its page number (None for a file that is one image), or
#: the page's sha256 (a ``--pair`` card row names its side's file and content, not the
#: page: of a document of several pages, the page holding that content is its own).
PageKey = tuple[Path, int | str | None]
#: A card's corners in thumbnail pixels, clockwise: (x1, y1, ..., x4, y4).
Outline = tuple[float, ...]
#: Files read at once: each may hold a PDF renderer process (30-50 MB) and one page.
MAX_WORKERS = 2


@dataclass(frozen=True, slots=True)
class PageView:
    """One page's thumbnail and where its cards lie, or why there is no thumbnail."""

    data_uri: str = ""
    width: int = 0
    height: int = 0
    #: Each card found, in reading order; None when cards were not looked for (no OpenCV).
    outlines: tuple[Outline, ...] | None = None
    #: The thumbnail is a mosaic (a masked report): no text or face can be read on it.
    masked: bool = False
    problem: str = ""
    #: The page image's hash, as the run's ``sha256`` column holds it: a row whose
    #: hash differs was read from another version of the file.
    sha256: str = ""


def view_of_image(image_bytes: bytes, *, masked: bool, sha256: str = "") -> PageView:
    """The view of one page image; never raises (a damaged image gives ``problem``).

    ``sha256``: the image's, when the caller hashed it already."""
    picture = Picture(image_bytes)
    try:
        thumb = picture.thumbnail(THUMB_MAX_PX)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return PageView(problem=problem_of(exc))
    width, height = thumb.size
    try:
        shares = crops.card_outlines(picture)
    except Exception:  # noqa: BLE001 - the outlines are a help; the thumbnail still shows
        shares = []
    finally:
        picture.release()
    outlines = None
    if shares is not None:
        outlines = tuple(
            tuple(round(value, 1) for x, y in quad for value in (x * width, y * height))
            for quad in shares
        )
    shown = mosaic(thumb) if masked else thumb
    return PageView(jpeg_data_uri(shown), width, height, outlines, masked,
                    sha256=sha256 or hashlib.sha256(image_bytes).hexdigest())


def _views_of_file(
    path: Path, wanted: set[int | str | None], *, masked: bool
) -> dict[int | str | None, PageView]:
    """The views of the pages ``wanted`` of one file: by number (None: the file as one
    image) or by the sha256 of the page image."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return dict.fromkeys(wanted, PageView(problem=problem_of(exc)))
    found: dict[int | str | None, PageView] = {}
    hashes = {key for key in wanted if isinstance(key, str)}
    outcomes = split_pages(raw)
    try:
        for outcome in outcomes:
            if isinstance(outcome, PageRejected):
                if outcome.number is None:  # the whole file is refused
                    return dict.fromkeys(wanted, PageView(problem=outcome.message))
                if outcome.number in wanted:
                    found[outcome.number] = PageView(problem=outcome.message)
                continue
            digest = hashlib.sha256(outcome.image).hexdigest() if hashes else ""
            if _wanted(outcome, wanted) or digest in hashes:
                view = view_of_image(outcome.image, masked=masked, sha256=digest)
                for key in (outcome.number, digest):
                    if key in wanted:
                        found[key] = view
                if outcome.number is not None and outcome.page_count == 1 and None in wanted:
                    found[None] = view  # a card row of a one-page document
            if wanted <= found.keys():
                break
    except Exception as exc:  # noqa: BLE001 - never a crash for one file (docs/review-page.md)
        return {n: found.get(n, PageView(problem=f"cannot read ({exc})")) for n in wanted}
    finally:
        outcomes.close()  # stops the PDF renderer when the pages wanted were read
    return {n: found.get(n, PageView(problem=_missing(n))) for n in wanted}


def _wanted(page: Page, wanted: set[int | str | None]) -> bool:
    return page.number in wanted or (None in wanted and page.page_count == 1)


def _missing(key: int | str | None) -> str:
    if key is None:
        return "a document of several pages: which one this entry is from is not known"
    if isinstance(key, str):
        return "no page of the file holds this content now"
    return f"the file has no page {key} now"


def page_views(
    keys: Iterable[PageKey], *, masked: bool, workers: int = MAX_WORKERS
) -> dict[PageKey, PageView]:
    """The view of every page in ``keys``, each file read once, a few files at a time.

    Memory stays bounded whatever the run's size: a file's bytes and one page image per
    worker at a time, then only the thumbnails (a few KB each).
    """
    by_file: dict[Path, set[int | str | None]] = defaultdict(set)
    for path, number in keys:
        by_file[path].add(number)
    workers = max(1, min(workers, os.cpu_count() or 1, len(by_file) or 1))

    def of_file(item: tuple[Path, set[int | str | None]]) -> dict[PageKey, PageView]:
        path, numbers = item
        views = _views_of_file(path, numbers, masked=masked)
        return {(path, number): view for number, view in views.items()}

    found: dict[PageKey, PageView] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for views in pool.map(of_file, by_file.items()):
            found.update(views)
    return found


def own_outlines(
    *, card: int | None, side: str, outline_count: int, cards_numbered: int
) -> list[int]:
    """Which outlines (0-based, reading order) are the row's own card; empty if unsure.

    ``cards_numbered`` is the highest ``card`` among the rows of the page (0 when its
    rows are not numbered). A numbered card is the outline of its number when the page
    has as many outlines as numbered cards (the finder and the engine saw the same
    cards); a ``both`` row is both outlines of a page of two; a row of a page of one
    card is that card. Anything else (an ID card beside a bank card, a card the finder
    missed) is not guessed.
    """
    if card is not None:
        if outline_count == cards_numbered and 1 <= card <= outline_count:
            return [card - 1]
        return []
    if outline_count == 1:
        return [0]
    if outline_count == 2 and side == "both":
        return [0, 1]
    return []


def cards_numbered_by_page(
    entries: Iterable[Mapping[str, Any]],
) -> dict[tuple[str, int | None], int]:
    """The highest ``card`` of the review entries of each (file, ``page``)."""
    highest: dict[tuple[str, int | None], int] = defaultdict(int)
    for entry in entries:
        if entry["card"] is not None:
            key = (entry["files"][0], entry["page"])
            highest[key] = max(highest[key], entry["card"])
    return dict(highest)
