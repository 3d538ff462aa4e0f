"""Write the review page: one self-contained HTML file that works from the local disk.

This module gathers what the page shows (an entry per row, its page thumbnails and
portrait) and writes the file; ``render.py`` (whose docstring draws the page's layout)
turns that into HTML with the page's template, ``templates/review.html``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from batch_ocr.private_files import replace_private
from batch_ocr.report.entries import build_entry, text
from batch_ocr.report.page_views import (
    PageKey,
    PageView,
    cards_numbered_by_page,
    own_outlines,
    page_views,
)
from batch_ocr.report.render import render_html
from batch_ocr.report.thumbs import PORTRAIT_MAX_PX, make_thumbnails

ImageFor = Callable[[Mapping[str, Any]], Path | None]

#: What an entry shows instead of a page that is no longer the one its row was read from.
CHANGED_SINCE_READ = "the file changed since this row was read"


def write_report(
    rows: Sequence[Mapping[str, Any]],
    out_html: Path,
    *,
    image_for: ImageFor | None = None,
    summary: Mapping[str, Any] | None = None,
    masked: bool = False,
    show_faces_when_masked: bool = False,
    portrait_dir: Path | None = None,
) -> None:
    """Write the review page of ``rows`` to ``out_html`` (mode 0600, replaced atomically).

    Args:
        rows: output rows as dicts in the JSONL shape, or the per-card rows of ``--pair``.
        out_html: where to write the page; its folder is created if missing.
        image_for: maps a row to its source image for the thumbnail (``None``: no
            thumbnail). For a card row it is called once per side, with ``file`` set to
            ``front_file`` and then ``back_file``.
        summary: run facts to show (calls made, cost estimate, engine, run time, ...);
            any other key is shown as it is.
        masked: the rows are masked; the page says so and, unless
            ``show_faces_when_masked``, shows each page only as a mosaic of flat
            squares (cards outlined, nothing readable) and no portrait.
        show_faces_when_masked: embed clear images even when ``masked``.
        portrait_dir: folder a relative ``portrait_file`` is relative to (the output's
            folder); defaults to the folder of ``out_html``.
    """
    # A masked page still shows each row's page, as a mosaic with the cards outlined;
    # its portraits, being faces, are left out (docs/cards.md, "Masking").
    clear_images = not masked or show_faces_when_masked
    entries = [build_entry(row, index) for index, row in enumerate(rows)]
    views: list[dict[str, Any]] = []
    if image_for is not None:
        views = _add_page_views(rows, entries, image_for, mosaic=not clear_images)
    else:
        # Without image_for there are no scans to show: no boxes, the header says why.
        for entry in entries:
            entry["thumbs"] = []
    if clear_images:
        _add_portraits(rows, entries, portrait_dir or out_html.parent)
    else:
        for entry in entries:
            entry["portrait"] = ""
    if image_for is None:
        images_note = "not included (no image folder given)"
    elif not clear_images:
        images_note = "blurred into squares (masked report)"
    else:
        images_note = ""
    document = render_html(
        entries,
        summary=summary or {},
        masked=masked,
        images_embedded=clear_images,
        rows=rows,
        images_note=images_note,
        views=views,
    )
    replace_private(out_html, document)


def _add_page_views(
    rows: Sequence[Mapping[str, Any]],
    entries: list[dict[str, Any]],
    image_for: ImageFor,
    *,
    mosaic: bool,
) -> list[dict[str, Any]]:
    """Attach each entry's page thumbnails (``thumbs``); returns the views they index.

    The rows of one page share one view, so a page of four cards is embedded once.
    """
    wanted: list[list[PageKey | None]] = []
    for row, entry in zip(rows, entries, strict=True):
        keys: list[PageKey | None] = []
        for label, file in zip(entry["file_sides"], entry["files"], strict=True):
            path: Path | None = None
            if file:
                path = image_for({**row, "file": file}) if label else image_for(row)
            keys.append(None if path is None else (path, _page_of(row, label, entry)))
        wanted.append(keys)
    found = page_views({key for keys in wanted for key in keys if key is not None},
                       masked=mosaic)
    numbered = cards_numbered_by_page(entries)
    index_of: dict[PageKey, int] = {}
    views: list[dict[str, Any]] = []
    for row, entry, keys in zip(rows, entries, wanted, strict=True):
        entry["thumbs"] = []
        for label, key in zip(entry["file_sides"], keys, strict=True):
            view = None if key is None else found[key]
            if view is None or _read_another_version(row, label, view):
                problem = "image not found" if view is None else CHANGED_SINCE_READ
                entry["thumbs"].append({"label": label, "view": -1, "mine": [],
                                        "problem": problem})
                continue
            assert key is not None
            if key not in index_of:
                index_of[key] = len(views)
                views.append(_view_json(view))
            # A --pair card's side is a row of its own image: its card is unnumbered.
            mine = [] if view.outlines is None else own_outlines(
                card=entry["card"], side=entry["side"] or label,
                outline_count=len(view.outlines),
                cards_numbered=numbered.get((entry["files"][0], entry["page"]), 0))
            entry["thumbs"].append({"label": label, "view": index_of[key], "mine": mine,
                                    "problem": view.problem})
    return views


def _page_of(row: Mapping[str, Any], label: str, entry: Mapping[str, Any]) -> int | str | None:
    """Which page of its file an entry's side is: the row's ``page``; for a ``--pair``
    card's side, which names no page, the page holding the content it was read from."""
    if not label:
        page: int | None = entry["page"]
        return page
    recorded = text(row.get(f"{label}_sha256")).strip().lower()
    return recorded if len(recorded) == 64 else None


def _read_another_version(row: Mapping[str, Any], label: str, view: PageView) -> bool:
    """Whether the row was read from other content than the page now on disk (the file
    changed since): its thumbnail and outlines would show another card."""
    recorded = text(row.get(f"{label}_sha256" if label else "sha256")).strip().lower()
    return bool(view.sha256) and len(recorded) == 64 and recorded != view.sha256


def _view_json(view: PageView) -> dict[str, Any]:
    return {
        "uri": view.data_uri,
        "w": view.width,
        "h": view.height,
        # None (no OpenCV: cards not looked for) and [] (none found) differ on screen.
        "outlines": None if view.outlines is None else [list(q) for q in view.outlines],
        "masked": view.masked,
        "problem": view.problem,
    }


def _add_portraits(
    rows: Sequence[Mapping[str, Any]], entries: list[dict[str, Any]], portrait_dir: Path
) -> None:
    """Attach portrait thumbnails (as data: URIs) to ``entries``."""
    portrait_paths = [_portrait_path(row, portrait_dir) for row in rows]
    portraits = make_thumbnails(portrait_paths, max_px=PORTRAIT_MAX_PX)
    for entry, portrait, portrait_path in zip(entries, portraits, portrait_paths, strict=True):
        entry["portrait"] = portrait.data_uri
        if portrait_path is not None and portrait.problem and not entry["portrait_error"]:
            entry["portrait_error"] = f"portrait: {portrait.problem}"


def _portrait_path(row: Mapping[str, Any], portrait_dir: Path) -> Path | None:
    name = text(row.get("portrait_file"))
    if not name:
        return None
    path = Path(name)
    return path if path.is_absolute() else portrait_dir / path
